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
#
# PODMAN_NETNS=/run/netns/<name> (a namespace the suite made, holding a
# bridge $PODMAN_BRIDGE with the gateway $PODMAN_SUBNET.1/24): podman, conmon,
# the CNI plugins and the runtime run in that network namespace, with CNI's
# bridge network (network_backend "cni", the config in $PODMAN_DIR/cni, IPAM
# state under $PODMAN_DIR/ipam) as the default instead of no network. They
# also run in a mount namespace of their own (a process holds it:
# PODMAN_HOLDER_PID), with a tmpfs on /var/lib/cni (libcni's cache), where
# podman's /run/netns/cni-* bind mounts stay too; teardown_podman fails
# when a process, a mount under $PODMAN_DIR or a cni-* namespace is left there.

PODMAN_CGROUP_PARENT=/hull-e2e-podman

# podman with the private paths: a wrapper script ($PODMAN_DIR/podman), so
# `script -c` and `bash -c` can run it too.
pm() {
  "$PODMAN_DIR/podman" "$@"
}

write_podman_wrapper() {
  local enter=''
  [ -z "${PODMAN_NETNS:-}" ] ||
    enter="nsenter --mount=/proc/$PODMAN_HOLDER_PID/ns/mnt --net=$PODMAN_NETNS "
  cat >"$PODMAN_DIR/podman" <<EOF
#!/bin/sh
export CONTAINERS_CONF=$PODMAN_DIR/containers.conf CONTAINERS_STORAGE_CONF=$PODMAN_DIR/storage.conf
export CONTAINERS_REGISTRIES_CONF=/dev/null
exec ${enter}podman --root "$PODMAN_DIR/root" --runroot "$PODMAN_DIR/runroot" --tmpdir "$PODMAN_DIR/tmp" \\
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
  local network='netns = "none"'
  if [ -n "${PODMAN_NETNS:-}" ]; then
    network=$(printf 'netns = "bridge"\n[network]\nnetwork_backend = "cni"\nnetwork_config_dir = "%s"' \
      "$PODMAN_DIR/cni")
  fi
  cat >"$PODMAN_DIR/containers.conf" <<EOF
[containers]
$network
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PODMAN_DIR/events.log"
tmp_dir = "$PODMAN_DIR/tmp"
EOF
  podman_snapshot_host
  if [ -n "${PODMAN_NETNS:-}" ]; then start_podman_holder || return 1; fi
  write_podman_wrapper
  rootfs_tar | pm import - "$E2E_IMAGE" >/dev/null 2>&1
}

# CNI's bridge network named "podman" (podman's default network) on the
# bridge the suite made, addresses from $PODMAN_SUBNET.2-.199 (the suite may
# use .200 and up itself); then the process that holds podman's mount
# namespace, in $PODMAN_NETNS.
start_podman_holder() {
  mkdir -p "$PODMAN_DIR/cni"
  cat >"$PODMAN_DIR/cni/hull-e2e.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "podman", "plugins": [
  {"type": "bridge", "bridge": "$PODMAN_BRIDGE", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "dataDir": "$PODMAN_DIR/ipam", "routes": [{"dst": "0.0.0.0/0"}],
            "ranges": [[{"subnet": "$PODMAN_SUBNET.0/24", "gateway": "$PODMAN_SUBNET.1",
                         "rangeStart": "$PODMAN_SUBNET.2", "rangeEnd": "$PODMAN_SUBNET.199"}]]}}]}
EOF
  mkdir -p /var/lib/cni
  # slave: the suite's later `ip netns add` mounts reach it; its own mounts
  # stay in it. fd 3 closed: bats waits for every holder of it.
  nsenter --net="$PODMAN_NETNS" unshare --mount --propagation slave -- \
    sh -c 'mount -t tmpfs -o mode=700 tmpfs /var/lib/cni && exec sleep 1000000' \
    </dev/null >/dev/null 2>&1 3>&- &
  PODMAN_HOLDER_PID=$!
  export PODMAN_HOLDER_PID
  # shellcheck disable=SC2016  # expanded by the inner bash
  if ! wait_for 10 bash -c 'grep -q " /var/lib/cni " "/proc/$0/mountinfo"' "$PODMAN_HOLDER_PID"; then
    echo "podman's mount namespace did not come up" >&2
    return 1
  fi
  PODMAN_MNTNS=$(readlink "/proc/$PODMAN_HOLDER_PID/ns/mnt")
  export PODMAN_MNTNS
}

# Fails when podman left something in its mount namespace: a process other
# than the holder, a mount under $PODMAN_DIR, a cni-* network namespace.
podman_holder_clean() {
  local rc=0 p left=''
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" != "$PODMAN_HOLDER_PID" ] || continue
    [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$PODMAN_MNTNS" ] || continue
    [ "$(awk '{print $3}' "$p/stat" 2>/dev/null)" = Z ] && continue
    left+=" ${p#/proc/}($({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | cut -c1-80))"
  done
  [ -z "$left" ] || { echo "processes left in podman's mount namespace:$left" >&2; rc=1; }
  left=$(mounts_under "$PODMAN_DIR" "$PODMAN_HOLDER_PID")
  [ -z "$left" ] || { echo "mounts left under podman's storage: $left" >&2; rc=1; }
  left=$(awk '$5 ~ "^/run/netns/cni-" {print $5}' "/proc/$PODMAN_HOLDER_PID/mountinfo")
  [ -z "$left" ] || { echo "podman's network namespaces left: $left" >&2; rc=1; }
  return $rc
}

# Stops the holder by its pid (its mount namespace, tmpfs and all, goes with it).
stop_podman_holder() {
  [ -n "${PODMAN_HOLDER_PID:-}" ] || return 0
  kill -KILL "$PODMAN_HOLDER_PID" 2>/dev/null
  wait "$PODMAN_HOLDER_PID" 2>/dev/null
  PODMAN_HOLDER_PID=
}

# Which of podman's stray host paths exist before the suite.
podman_snapshot_host() {
  PODMAN_HAD_VARLIB='' PODMAN_HAD_RUNRUNC='' PODMAN_HAD_VARLIBCNI=''
  if [ -e /var/lib/containers ]; then PODMAN_HAD_VARLIB=1; fi
  if [ -e /run/runc ]; then PODMAN_HAD_RUNRUNC=1; fi
  if [ -e /var/lib/cni ]; then PODMAN_HAD_VARLIBCNI=1; fi
  export PODMAN_HAD_VARLIB PODMAN_HAD_RUNRUNC PODMAN_HAD_VARLIBCNI
}

podman_restore_host() {
  if [ -z "$PODMAN_HAD_VARLIB" ] && [ -d /var/lib/containers ] &&
    [ -z "$(find /var/lib/containers -mindepth 1 -not -path '/var/lib/containers/cache*')" ]; then
    rm -rf /var/lib/containers
  fi
  [ -n "$PODMAN_HAD_RUNRUNC" ] || rmdir /run/runc 2>/dev/null || true
  [ -z "${PODMAN_NETNS:-}" ] || [ -n "$PODMAN_HAD_VARLIBCNI" ] || rmdir /var/lib/cni 2>/dev/null || true
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
  if [ -n "${PODMAN_HOLDER_PID:-}" ]; then
    wait_for 10 podman_holder_clean 2>/dev/null || podman_holder_clean || rc=1
    stop_podman_holder
  fi
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
