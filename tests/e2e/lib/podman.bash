# Podman (Debian's podman 4.3) with the runtime under test, on private paths
# for tests/e2e/podman.bats.
#
#   --root/--runroot/--tmpdir and storage.conf/containers.conf under
#   $E2E_TMP/podman; overlay storage (vfs works too: HULL_E2E_PODMAN_STORAGE=vfs);
#   cgroupfs manager, file events, no network (netns none: no CNI/netavark);
#   --runtime-flag root=...: the runtime's own state (runc's /run/runc) is
#   private too.
# This machine's hard rlimits are below podman's defaults, so every container
# gets --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 (runc needs it too).
#
# podman 4.3 still writes two things outside those paths: its blob-info cache
# (/var/lib/containers/cache, on `import`) and an empty /run/runc (the
# `podman container cleanup` that conmon starts when a container exits calls
# the runtime without the --runtime-flag). podman_snapshot_host/podman_restore_host remove them
# when they did not exist before the suite.

PODMAN_CGROUP_PARENT=/hull-e2e-podman

# podman with the private paths: a wrapper script ($PODMAN_DIR/podman), so
# `script -c` and `bash -c` can run it too.
pm() {
  "$PODMAN_DIR/podman" "$@"
}

write_podman_wrapper() {
  cat >"$PODMAN_DIR/podman" <<EOF
#!/bin/sh
export CONTAINERS_CONF=$PODMAN_DIR/containers.conf CONTAINERS_STORAGE_CONF=$PODMAN_DIR/storage.conf
export CONTAINERS_REGISTRIES_CONF=/dev/null
exec podman --root "$PODMAN_DIR/root" --runroot "$PODMAN_DIR/runroot" --tmpdir "$PODMAN_DIR/tmp" \\
  --storage-driver "${HULL_E2E_PODMAN_STORAGE:-overlay}" --cgroup-manager cgroupfs \\
  --events-backend file --runtime "$RUNTIME" --runtime-flag "root=$PODMAN_DIR/runtime-root" "\$@"
EOF
  chmod 755 "$PODMAN_DIR/podman"
}

# pm_run ARGS...: `podman run` with the limits this machine needs, labelled
# hull-e2e-test so that the test's teardown finds what it made.
pm_run() {
  pm run --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --cgroup-parent "$PODMAN_CGROUP_PARENT" \
    --label hull-e2e-test "$@"
}

# Per-test cleanup: force-removes every container the test made (labelled),
# even when the test failed half-way, so that one failure does not cascade;
# teardown_podman still fails on anything left.
pm_teardown() {
  [ -n "${PODMAN_DIR:-}" ] && [ -d "$PODMAN_DIR" ] || return 0
  local ids
  ids=$(pm ps -aq --filter label=hull-e2e-test 2>/dev/null)
  [ -n "$ids" ] || return 0
  echo "# teardown: removing container(s) ${ids//$'\n'/ }" >&3
  # shellcheck disable=SC2086
  pm rm -f -t 0 $ids >/dev/null 2>&1
}

setup_podman() {
  PODMAN_DIR=$E2E_TMP/podman
  export PODMAN_DIR
  mkdir -p "$PODMAN_DIR/tmp"
  cat >"$PODMAN_DIR/storage.conf" <<EOF
[storage]
driver = "${HULL_E2E_PODMAN_STORAGE:-overlay}"
graphroot = "$PODMAN_DIR/root"
runroot = "$PODMAN_DIR/runroot"
EOF
  cat >"$PODMAN_DIR/containers.conf" <<EOF
[containers]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PODMAN_DIR/events.log"
tmp_dir = "$PODMAN_DIR/tmp"
EOF
  write_podman_wrapper
  podman_snapshot_host
  rootfs_tar | pm import - "$E2E_IMAGE" >/dev/null 2>&1
}

# Which of podman's stray host paths exist before the suite.
podman_snapshot_host() {
  PODMAN_HAD_VARLIB='' PODMAN_HAD_RUNRUNC=''
  if [ -e /var/lib/containers ]; then PODMAN_HAD_VARLIB=1; fi
  if [ -e /run/runc ]; then PODMAN_HAD_RUNRUNC=1; fi
  export PODMAN_HAD_VARLIB PODMAN_HAD_RUNRUNC
}

podman_restore_host() {
  if [ -z "$PODMAN_HAD_VARLIB" ] && [ -d /var/lib/containers ] &&
    [ -z "$(find /var/lib/containers -mindepth 1 -not -path '/var/lib/containers/cache*')" ]; then
    rm -rf /var/lib/containers
  fi
  [ -n "$PODMAN_HAD_RUNRUNC" ] || rmdir /run/runc 2>/dev/null || true
}

# Removes every container and image, then fails on leftovers: processes
# (conmon, container, VM), mounts under the storage, cgroups.
teardown_podman() {
  [ -n "${PODMAN_DIR:-}" ] && [ -d "$PODMAN_DIR" ] || return 0
  local rc=0 procs
  pm rm -af -t 0 >/dev/null 2>&1
  pm rmi -af >/dev/null 2>&1
  # overlay storage keeps its own mount of the graph root until told to let go
  pm system reset -f >/dev/null 2>&1 || true
  # conmon runs `podman container cleanup` when a container exits; give those
  # a moment (they are the ones that call the runtime without --root)
  local i
  for ((i = 0; i < 100; i++)); do
    [ -z "$(processes_under "$PODMAN_DIR")" ] && break
    sleep 0.1
  done
  podman_restore_host
  procs=$(processes_under "$PODMAN_DIR")
  [ -z "$procs" ] || { echo "podman processes left: $procs" >&2; rc=1; }
  local m
  for m in $(mounts_under "$PODMAN_DIR" | sort -r); do
    echo "mount left under podman's storage: $m" >&2
    umount -l "$m"
    rc=1
  done
  remove_cgroups "${PODMAN_CGROUP_PARENT#/}" || rc=1
  return $rc
}
