# containerd's shim v2 for hull (tests/e2e/shim.bats): the private containerd
# of lib/containerd.bash, in a network namespace of its own, with
# containerd-shim-hull-v2 of the build tree on its PATH, so that
# `ctr run --runtime io.containerd.hull.v2` finds it as containerd finds any
# shim.
#
#   HULL_E2E_SHIM  the shim under test (default: $HULL_BUILD_DIR/shim/containerd-shim-hull-v2)
#
# The shim keeps its pods under /run/hull/shim/<namespace>/ in containerd's
# mount namespace (a tmpfs of the test) and its sockets in /run/containerd/s/
# there; the namespace name is unique to this run, so the command lines of
# this run's VM processes (which name their sandbox directory) are its own.

SHIM=${HULL_E2E_SHIM:-$HULL_BUILD_DIR/shim/containerd-shim-hull-v2}
SHIM_RUNTIME=io.containerd.hull.v2
# Chosen once, in setup_file (exported), and kept by every test's process.
SHIM_CTR_NAMESPACE=${SHIM_CTR_NAMESPACE:-hull-e2e-shim-$$}
CTR_NAMESPACE=$SHIM_CTR_NAMESPACE

# Why this suite cannot run here, or nothing.
shim_skip_reason() {
  local bin
  if [ "$(id -u)" -ne 0 ]; then
    echo "needs root"
    return
  fi
  for bin in containerd ctr unshare script jq; do
    command -v "$bin" >/dev/null || { echo "$bin is not installed"; return; }
  done
  if [ ! -x "$SHIM" ]; then
    echo "the shim is not built ($SHIM); build the containerd-shim-hull-v2 target"
  elif [ ! -f "$HULL_BUILD_DIR/guest/vmlinux" ] || [ ! -f "$HULL_BUILD_DIR/guest/initrd.img" ]; then
    echo "the guest image is not built ($HULL_BUILD_DIR/guest); build the guest-image target"
  fi
}

shim_setup_file() {
  E2E_SKIP=$(shim_skip_reason)
  export E2E_SKIP
  E2E_TMP=$(mktemp -d /tmp/hull-e2e.XXXXXX)
  chmod 755 "$E2E_TMP"
  export E2E_TMP
  [ -z "$E2E_SKIP" ] || return 0
  if [ -z "${HULL_CONFIG:-}" ]; then
    printf '{"vm": {"kernel": "%s", "initrd": "%s"}}\n' "$HULL_BUILD_DIR/guest/vmlinux" \
      "$HULL_BUILD_DIR/guest/initrd.img" >"$E2E_TMP/hull-config.json"
    export HULL_CONFIG=$E2E_TMP/hull-config.json
  fi
  # containerd looks for containerd-shim-hull-v2 on its PATH.
  mkdir -p "$E2E_TMP/bin"
  ln -s "$(readlink -f "$SHIM")" "$E2E_TMP/bin/containerd-shim-hull-v2"
  export PATH="$E2E_TMP/bin:$PATH" SHIM_CTR_NAMESPACE CONTAINERD_NETNS=1
  "$E2E_LIB/busybox-rootfs.sh" "$E2E_TMP/rootfs"
}

# sr ARGS...: `ctr run` through the hull shim.
sr() {
  c run --runtime "$SHIM_RUNTIME" --fifo-dir "$CONTAINERD_DIR/fifo" \
    --snapshotter "${HULL_E2E_SNAPSHOTTER:-overlayfs}" "$@"
}

# What the shim keeps in containerd's mount namespace.
shim_state_dir() { echo "/proc/$CONTAINERD_PID/root/run/hull/shim/$CTR_NAMESPACE"; }
shim_socket_dir() { echo "/proc/$CONTAINERD_PID/root/run/containerd/s"; }

# Pids of this run's shim daemons and VM processes (QEMU, virtiofsd,
# hull-vsock name their sandbox directory; a shim names our containerd).
shim_processes() {
  local pid
  for pid in $(processes_under "$CONTAINERD_DIR") $(processes_under "/run/hull/shim/$CTR_NAMESPACE"); do
    [ "$pid" = "$CONTAINERD_PID" ] || echo "$pid"
  done | sort -u
}

# The pid of the shim daemon serving task ID.
shim_pid_of() {
  local pid
  for pid in $(shim_processes); do
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "^[^ ]*containerd-shim-hull-v2 -namespace $CTR_NAMESPACE -id $1 " &&
      echo "$pid"
  done
  return 0
}

# Lists what is left of the shim's work: processes, mounts in containerd's
# namespace, pod records, sandbox directories, sockets. Prints nothing when
# nothing is.
shim_leftovers() {
  local p m f
  for p in $(shim_processes); do
    echo "process $p: $({ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | cut -c1-120)"
  done
  m=$(awk -v d="$CONTAINERD_DIR/" -v s="/run/hull/shim/$CTR_NAMESPACE/" \
    'index($5, d) == 1 || index($5, s) == 1 {print $5}' "/proc/$CONTAINERD_PID/mountinfo")
  [ -z "$m" ] || echo "mounts: $m"
  for f in "$(shim_state_dir)"/pods/* "$(shim_state_dir)"/sandboxes/* "$(shim_socket_dir)"/*; do
    [ -e "$f" ] && echo "file: ${f#/proc/"$CONTAINERD_PID"/root}"
  done
  return 0
}

# Waits (the daemon exits just after containerd's Shutdown) until nothing
# is left; fails with the list otherwise.
assert_shim_nothing_left() {
  local left i
  for ((i = 0; i < 100; i++)); do
    left=$(shim_leftovers)
    [ -n "$left" ] || return 0
    sleep 0.2
  done
  echo "left behind by the shim:" >&2
  echo "$left" >&2
  return 1
}
