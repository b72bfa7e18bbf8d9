# A private containerd for tests/e2e/containerd.bats (Debian's containerd 1.6),
# driven with `ctr run --runc-binary <runtime>` through containerd-shim-runc-v2.
#
# Nothing of the system's containerd is touched: root, state, the grpc/ttrpc
# sockets and the opt plugin dir live under $E2E_TMP/containerd; the CRI
# plugin is disabled (no CNI, no images pulled). Like dockerd (lib/docker.bash)
# it runs in a private mount namespace with a tmpfs on /run, because the 1.6
# shim puts its sockets under /run/containerd/s/ regardless of the state dir.
# ctr is given --fifo-dir under $E2E_TMP (its default, /run/containerd/fifo,
# is on the host). Snapshotter: overlayfs (works on this ext4 /tmp; set
# HULL_E2E_SNAPSHOTTER=native where overlay does not).

CTR_NAMESPACE=hull-e2e-ctr  # also the cgroup parent the runc shim uses (/<ns>/<id>)
CTR_IMAGE=docker.io/hull-e2e/busybox:latest

c() {
  ctr --address "$CONTAINERD_DIR/containerd.sock" --namespace "$CTR_NAMESPACE" "$@"
}

# ctr_run ARGS...: `ctr run` through the runc shim with the runtime under test.
ctr_run() {
  c run --runc-binary "$RUNTIME" --fifo-dir "$CONTAINERD_DIR/fifo" \
    --snapshotter "${HULL_E2E_SNAPSHOTTER:-overlayfs}" "$@"
}

# Starts containerd and imports the busybox image. Sets and exports
# CONTAINERD_DIR, CONTAINERD_PID, CONTAINERD_MNTNS. With CONTAINERD_NETNS=1
# it also gets a network namespace of its own (nothing but loopback).
start_containerd() {
  CONTAINERD_DIR=$E2E_TMP/containerd
  mkdir -p "$CONTAINERD_DIR/fifo"
  {
    echo 'disabled_plugins = ["io.containerd.grpc.v1.cri"]'
    containerd_private_config warn
  } >"$CONTAINERD_DIR/config.toml"
  local netns=()
  [ "${CONTAINERD_NETNS:-}" != 1 ] || netns=(--net)
  unshare "${netns[@]}" --mount --propagation private -- sh -c 'mount -t tmpfs -o mode=755 tmpfs /run && exec "$@"' sh \
    containerd --config "$CONTAINERD_DIR/config.toml" \
    </dev/null >"$CONTAINERD_DIR/containerd.log" 2>&1 3>&- &
  CONTAINERD_PID=$!
  export CONTAINERD_DIR CONTAINERD_PID
  daemon_ready containerd "$CONTAINERD_PID" "$CONTAINERD_DIR/containerd.log" c version || return 1
  export CONTAINERD_MNTNS=$DAEMON_MNTNS CONTAINERD_NSFD=$DAEMON_NSFD
  import_oci_image "$CTR_IMAGE"
}

# containerd_private_config LEVEL: the lines of a containerd config that keep
# everything under $CONTAINERD_DIR (root, state, sockets, opt), logging at LEVEL.
containerd_private_config() {
  cat <<EOF
version = 2
root = "$CONTAINERD_DIR/root"
state = "$CONTAINERD_DIR/state"
[grpc]
  address = "$CONTAINERD_DIR/containerd.sock"
[ttrpc]
  address = "$CONTAINERD_DIR/containerd.sock.ttrpc"
[debug]
  address = "$CONTAINERD_DIR/debug.sock"
  level = "$1"
[plugins."io.containerd.internal.v1.opt"]
  path = "$CONTAINERD_DIR/opt"
EOF
}

# import_oci_image NAME [COMMAND-JSON]: busybox from $E2E_TMP/rootfs as the
# image NAME (with COMMAND as its command when given), imported into our
# containerd.
import_oci_image() {
  local tar
  tar=$CONTAINERD_DIR/$(basename "${1%%:*}").tar
  OCI_IMAGE_CMD=${2:-} "$E2E_LIB/oci-image.sh" "$E2E_TMP/rootfs" "$1" "$tar" &&
    c images import "$tar" >/dev/null
}

# Pids of the runc shims of container ID in our namespace (a shim's command
# line names -namespace, -id and our containerd's -address).
ctr_shim_pids() {
  local id=$1 pid
  for pid in $(processes_under "$CONTAINERD_DIR"); do
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
      grep -qF -- "-namespace $CTR_NAMESPACE -id $id -address $CONTAINERD_DIR/containerd.sock" && echo "$pid"
  done
}

# Per-test cleanup: kills and deletes every task and container the test made
# in our private namespace (all of them: the tests run one after another),
# even when the test failed half-way, and kills a shim left for one of them,
# by its pid, so that one failure does not cascade into the next tests;
# stop_containerd still fails on anything left.
ctr_teardown() {
  [ -n "${CONTAINERD_PID:-}" ] || return 0
  local id ids pid
  ids=$( { c tasks ls -q; c containers ls -q; } 2>/dev/null | sort -u)
  [ -n "$ids" ] || return 0
  echo "# teardown: removing task/container(s) ${ids//$'\n'/ }" >&3
  for id in $ids; do
    c tasks kill -s KILL "$id" >/dev/null 2>&1
    wait_for 10 bash -c "! ctr --address '$CONTAINERD_DIR/containerd.sock' -n '$CTR_NAMESPACE' tasks ls -q | grep -qx '$id'" 2>/dev/null ||
      c tasks delete -f "$id" >/dev/null 2>&1
    c tasks delete -f "$id" >/dev/null 2>&1
    c containers delete "$id" >/dev/null 2>&1
    for pid in $(ctr_shim_pids "$id"); do
      echo "# teardown: killing the shim of $id ($pid)" >&3
      kill -KILL "$pid" 2>/dev/null
    done
  done
}

# The file hooks of the suites on a private containerd (containerd.bats,
# shim.bats): containerd_setup_file SETUP runs the suite's SETUP (which makes
# its temp dir and decides whether it skips), then starts containerd unless
# it skips; containerd_teardown_file stops containerd and removes the temp dir,
# failing when either finds something left.
containerd_setup_file() {
  "$1" || return 1
  [ -n "$E2E_SKIP" ] || start_containerd
}
containerd_teardown_file() {
  local rc=0
  stop_containerd || rc=1
  e2e_teardown_file || rc=1
  return $rc
}

# Deletes every task and container, stops containerd by its pid and fails when
# a shim, container, VM or cgroup of ours is left.
stop_containerd() {
  [ -n "${CONTAINERD_PID:-}" ] || return 0
  local id rc=0
  for id in $(c tasks ls -q 2>/dev/null); do
    c tasks kill -s KILL "$id" >/dev/null 2>&1
    wait_for 10 bash -c "! ctr --address '$CONTAINERD_DIR/containerd.sock' -n '$CTR_NAMESPACE' tasks ls -q | grep -qx '$id'" ||
      c tasks delete -f "$id" >/dev/null 2>&1
    c tasks delete "$id" >/dev/null 2>&1
  done
  for id in $(c containers ls -q 2>/dev/null); do c containers delete "$id" >/dev/null 2>&1; done
  stop_daemon containerd "$CONTAINERD_PID" || rc=1
  assert_nothing_in_mntns "$CONTAINERD_MNTNS" || rc=1
  [ -z "${CONTAINERD_NSFD:-}" ] || exec {CONTAINERD_NSFD}<&-
  [ -z "$(processes_under "$CONTAINERD_DIR")" ] || {
    echo "processes of containerd left: $(processes_under "$CONTAINERD_DIR")" >&2
    rc=1
  }
  remove_cgroups "$CTR_NAMESPACE" || rc=1
  CONTAINERD_PID=
  return $rc
}
