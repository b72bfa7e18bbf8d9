# Kubernetes' path to hull (tests/e2e/cri.bats): a private containerd with
# its CRI plugin, the runtime handler `hull` = io.containerd.hull.v2 (the
# shim of the build tree, lib/shim.bash), a CNI bridge network, all driven
# through hull-e2e-cri (tests/e2e/cri), the project's CRI v1 client.
#
# containerd runs inside a network namespace this suite makes (`ip netns
# add`, entered with nsenter) and a mount namespace of its own with a tmpfs on
# /run (CRI's pod netns files, the shim's sockets and pods live there). Its
# root, state, CNI config, IPAM leases and pod logs are under $E2E_TMP. The
# busybox image and a pause image (busybox's sleep as its command) are
# imported as OCI archives: nothing is pulled.

# shellcheck disable=SC2034  # read by lib/containerd.bash's c and lib/shim.bash
CTR_NAMESPACE=k8s.io  # CRI's containerd namespace
CRI_CLIENT=$HULL_BUILD_DIR/tests/hull-e2e-cri
CRI_PAUSE_IMAGE=docker.io/hull-e2e/pause:latest
CRI_SUBNET=10.88.77
CRI_GATEWAY=$CRI_SUBNET.1
# Chosen once per run (setup_file exports it).
CRI_NETNS=${CRI_NETNS:-hull-e2e-cri-$$}
CRI_CGROUP=${CRI_CGROUP:-hull-e2e-cri-$$}

cri() { "$CRI_CLIENT" -a "$CONTAINERD_DIR/containerd.sock" "$@"; }

cri_skip_reason() {
  local why
  why=$(shim_skip_reason)
  if [ -n "$why" ]; then
    echo "$why"
  elif [ ! -x "$CRI_CLIENT" ]; then
    echo "the CRI client is not built ($CRI_CLIENT); build the hull-e2e-cri target"
  elif [ ! -x /usr/lib/cni/bridge ] || [ ! -x /usr/lib/cni/host-local ]; then
    echo "containernetworking-plugins is not installed (/usr/lib/cni)"
  elif ! command -v nsenter >/dev/null || ! command -v ip >/dev/null; then
    echo "nsenter and ip are needed"
  fi
}

cri_setup_file() {
  shim_setup_file || return 1
  local why
  why=$(cri_skip_reason)
  [ -z "$why" ] || E2E_SKIP=$why
  export E2E_SKIP CRI_NETNS CRI_CGROUP
  [ -z "$E2E_SKIP" ] || return 0
  # A containerd that did not come up leaves nothing either: its holder,
  # the namespace and the cgroups go now (teardown_file finds nothing).
  start_cri_containerd || {
    stop_cri_containerd 2>/dev/null || true
    return 1
  }
}

# Starts containerd with CRI in the suite's network namespace. Sets and
# exports CONTAINERD_DIR, CONTAINERD_PID, CONTAINERD_MNTNS, CRI_HOLDER_PID.
#
# The mount namespace (a tmpfs on /run: the pods' netns files, the shims'
# sockets and records) belongs to a holder process, a sleep, not to
# containerd: containerd enters it, so that a containerd restarted while
# pods run (restart_cri_containerd) finds the same /run as its shims.
start_cri_containerd() {
  CONTAINERD_DIR=$E2E_TMP/containerd
  mkdir -p "$CONTAINERD_DIR"/{fifo,cni,ipam,logs}
  cat >"$CONTAINERD_DIR/cni/10-hull-e2e.conflist" <<EOF2
{"cniVersion": "0.4.0", "name": "hull-e2e-cri", "plugins": [
  {"type": "bridge", "bridge": "hullcri0", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "dataDir": "$CONTAINERD_DIR/ipam",
            "ranges": [[{"subnet": "$CRI_SUBNET.0/24", "gateway": "$CRI_GATEWAY"}]],
            "routes": [{"dst": "0.0.0.0/0"}]}}]}
EOF2
  containerd_private_config info >"$CONTAINERD_DIR/config.toml"
  cat >>"$CONTAINERD_DIR/config.toml" <<EOF2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$CRI_PAUSE_IMAGE"
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "${HULL_E2E_SNAPSHOTTER:-overlayfs}"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hull]
      runtime_type = "io.containerd.hull.v2"
      pod_annotations = ["io.hull.*"]
      privileged_without_host_devices = true
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hull.options]
        ConfigPath = "$HULL_CONFIG"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$CONTAINERD_DIR/cni"
EOF2
  export CONTAINERD_DIR
  ip netns add "$CRI_NETNS" || return 1
  nsenter --net="/run/netns/$CRI_NETNS" ip link set lo up
  unshare --mount --propagation private -- \
    sh -c 'mount -t tmpfs -o mode=755 tmpfs /run && touch /run/.hull-e2e-ready && exec sleep 2147483647' \
    </dev/null >/dev/null 2>&1 3>&- &
  CRI_HOLDER_PID=$!
  export CRI_HOLDER_PID
  wait_for 10 test -e "/proc/$CRI_HOLDER_PID/root/run/.hull-e2e-ready" || {
    echo "the mount namespace holder ($CRI_HOLDER_PID) did not mount /run" >&2
    return 1
  }
  CONTAINERD_MNTNS=$(readlink "/proc/$CRI_HOLDER_PID/ns/mnt")
  exec {CONTAINERD_NSFD}<"/proc/$CRI_HOLDER_PID/ns/mnt"
  export CONTAINERD_MNTNS CONTAINERD_NSFD
  launch_cri_containerd || return 1
  import_oci_image "$CTR_IMAGE" || return 1
  import_oci_image "$CRI_PAUSE_IMAGE" '["sleep","2147483647"]' || return 1
  # CRI learns of imported images from containerd's events.
  # shellcheck disable=SC2016  # expands in the child shell
  wait_for 30 bash -c '"$0" -a "$1" ImageStatus "{\"image\":{\"image\":\"$2\"}}" | jq -e .image.id >/dev/null' \
    "$CRI_CLIENT" "$CONTAINERD_DIR/containerd.sock" "$CRI_PAUSE_IMAGE"
}

# Runs containerd in the holder's mount namespace and the suite's network
# namespace; waits until it answers. Sets CONTAINERD_PID and writes it to
# $CONTAINERD_DIR/containerd.pid (a test that restarts containerd runs in a
# process of its own: cri_sync_pid reads the pid back in the others).
launch_cri_containerd() {
  nsenter --mount="/proc/$CRI_HOLDER_PID/ns/mnt" --net="/run/netns/$CRI_NETNS" \
    containerd --config "$CONTAINERD_DIR/config.toml" \
    </dev/null >>"$CONTAINERD_DIR/containerd.log" 2>&1 3>&- &
  CONTAINERD_PID=$!
  echo "$CONTAINERD_PID" >"$CONTAINERD_DIR/containerd.pid"
  export CONTAINERD_PID
  if ! wait_for 60 cri Version >/dev/null 2>&1; then
    echo "containerd did not come up; its log:" >&2
    tail -30 "$CONTAINERD_DIR/containerd.log" >&2
    return 1
  fi
}

# CONTAINERD_PID from the file launch_cri_containerd wrote.
cri_sync_pid() {
  [ -n "${CONTAINERD_DIR:-}" ] && [ -f "$CONTAINERD_DIR/containerd.pid" ] || return 0
  CONTAINERD_PID=$(cat "$CONTAINERD_DIR/containerd.pid")
}

# True while PID runs (a zombie does not).
cri_alive() {
  kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# cri_wait_gone PID TENTHS: waits up to TENTHS tenths of a second for PID to end.
cri_wait_gone() {
  local i
  for ((i = 0; i < $2; i++)); do
    cri_alive "$1" || return 0
    sleep 0.1
  done
  ! cri_alive "$1"
}

# cri_stop_pid PID: stops containerd PID as systemd does, SIGTERM and then
# SIGKILL after 30 s. 0: it ended on SIGTERM; 1: it needed SIGKILL (said on
# stderr); 2: it still runs. containerd 1.6 was seen once not to end within
# 30 s of SIGTERM on a loaded machine.
cri_stop_pid() {
  kill -TERM "$1" 2>/dev/null
  cri_wait_gone "$1" 300 && return 0
  echo "containerd ($1) still runs 30 s after SIGTERM: SIGKILL" >&2
  kill -KILL "$1" 2>/dev/null
  cri_wait_gone "$1" 100 && return 1
  return 2
}

# Stops containerd and starts it again with the same config, root, state and
# namespaces; its shims and pods keep running either way.
restart_cri_containerd() {
  local rc=0
  cri_stop_pid "$CONTAINERD_PID" || rc=$?
  [ "$rc" -le 1 ] || return 1
  launch_cri_containerd
}

# The JSON PodSandboxConfig of pod NAME; EXTRA (a jq object) is merged in.
cri_pod_config() {
  local name=$1 extra=${2:-'{}'}
  mkdir -p "$CONTAINERD_DIR/logs/$name"
  jq -cn --arg name "$name" --arg logs "$CONTAINERD_DIR/logs/$name" --arg cg "/$CRI_CGROUP" \
    --argjson extra "$extra" '{
      metadata: {name: $name, uid: ("uid-" + $name), namespace: "hull-e2e", attempt: 0},
      hostname: $name,
      log_directory: $logs,
      dns_config: {servers: ["10.88.77.53"], searches: ["hull.test"], options: ["ndots:2"]},
      linux: {cgroup_parent: $cg, security_context: {namespace_options: {network: "POD", pid: "CONTAINER", ipc: "POD"}}}
    } * $extra'
}

# Runs a pod; prints its id.
cri_run_pod() {
  local cfg
  cfg=$(cri_pod_config "$@")
  cri RunPodSandbox "{\"config\": $cfg, \"runtime_handler\": \"hull\"}" | jq -r .pod_sandbox_id
}

# Creates container NAME running ARGS... (sh -c style: one string) in pod POD
# of config POD_CFG; EXTRA merged into the ContainerConfig. Prints its id.
cri_create() {
  local pod=$1 pod_cfg=$2 name=$3 script=$4 extra=${5:-'{}'}
  jq -cn --arg pod "$pod" --argjson pcfg "$pod_cfg" --arg name "$name" --arg img "$CTR_IMAGE" \
    --arg script "$script" --argjson extra "$extra" '{
      pod_sandbox_id: $pod,
      config: ({metadata: {name: $name}, image: {image: $img}, command: ["sh", "-c", $script],
               log_path: ($name + ".log")} * $extra),
      sandbox_config: $pcfg
    }' | cri CreateContainer - | jq -r .container_id
}

# ExecSync ID ARGS...: the command's stdout (its stderr to ours) and its
# exit code as our status (255 when the call itself failed).
cri_exec() {
  local id=$1 out
  shift
  local cmd
  cmd=$(for a in "$@"; do jq -n --arg a "$a" '$a'; done | jq -sc .)
  out=$(jq -cn --arg id "$id" --argjson cmd "$cmd" '{container_id: $id, cmd: $cmd, timeout: 60}' |
    cri ExecSync -) || return 255
  jq -j '.stderr | @base64d' <<<"$out" >&2
  jq -j '.stdout | @base64d' <<<"$out"
  return "$(jq -r .exit_code <<<"$out")"
}

cri_container_state() { cri ContainerStatus "{\"container_id\": \"$1\"}" | jq -r .status.state; }
cri_pod_state() { cri PodSandboxStatus "{\"pod_sandbox_id\": \"$1\"}" | jq -r .status.state; }

# Every process in containerd's mount namespace but containerd (the shims
# and their VMs, each of this suite's own, as the namespace is), and their
# descendants (virtiofsd sandboxes itself in a mount namespace of its own).
cri_processes() {
  local p found=" " more=1 ppid
  [ -n "${CONTAINERD_MNTNS:-}" ] || return 0
  for p in /proc/[0-9]*; do
    case ${p#/proc/} in "$CONTAINERD_PID" | "${CRI_HOLDER_PID:-}") continue ;; esac
    [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$CONTAINERD_MNTNS" ] || continue
    found+="${p#/proc/} "
  done
  while [ -n "$more" ]; do
    more=
    for p in /proc/[0-9]*; do
      [[ $found == *" ${p#/proc/} "* ]] && continue
      ppid=$(awk '{print $4}' "$p/stat" 2>/dev/null) || continue
      [ "$ppid" != "$CONTAINERD_PID" ] || continue
      [[ $found == *" $ppid "* ]] || continue
      found+="${p#/proc/} "
      more=1
    done
  done
  for p in $found; do
    [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ] && [ -e "/proc/$p" ] && echo "$p"
  done
  return 0
}

# The shim daemons among them.
cri_shim_pids() {
  local p
  for p in $(cri_processes); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" != containerd-shim ] || echo "$p"
  done
}

# What a pod can leave: processes, mounts below our dirs, pod netns files,
# the shim's records and sockets, taps/veths in the suite's namespace, IPAM
# leases, the pods' host cgroups.
cri_leftovers() {
  local p m f
  for p in $(cri_processes); do
    echo "process $p: $({ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | cut -c1-120)"
  done
  m=$(awk -v d="$CONTAINERD_DIR/" \
    'index($5, d) == 1 || $5 ~ /^\/run\/(netns\/cni-|hull\/|containerd\/)/ {print $5}' \
    "/proc/$CONTAINERD_PID/mountinfo")
  [ -z "$m" ] || echo "mounts: $m"
  for f in "/proc/$CONTAINERD_PID/root/run/netns"/* "$(shim_state_dir)"/pods/* \
    "$(shim_state_dir)"/sandboxes/* "$(shim_socket_dir)"/*; do
    [ -e "$f" ] && echo "file: ${f#/proc/"$CONTAINERD_PID"/root}"
  done
  for f in "$CONTAINERD_DIR/ipam/hull-e2e-cri"/*; do
    [ -e "$f" ] || continue
    case ${f##*/} in lock | last_reserved_ip.*) ;; *) echo "IPAM lease: ${f##*/}" ;; esac
  done
  nsenter --net="/run/netns/$CRI_NETNS" ip -o link show 2>/dev/null |
    awk -F': ' '$2 !~ /^(lo|hullcri0)(@|$)/ {print "link: " $2}'
  find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -path "*/$CRI_CGROUP/*" 2>/dev/null |
    sed 's/^/cgroup: /'
  return 0
}

assert_cri_nothing_left() {
  local left i
  for ((i = 0; i < 100; i++)); do
    left=$(cri_leftovers)
    [ -n "$left" ] || return 0
    sleep 0.2
  done
  echo "left behind:" >&2
  echo "$left" >&2
  return 1
}

# Per-test cleanup: every pod stopped and removed through CRI.
cri_teardown() {
  [ -n "${CONTAINERD_PID:-}" ] || return 0
  local id
  for id in $(cri ListPodSandbox '{}' 2>/dev/null | jq -r '.items[].id'); do
    echo "# teardown: removing pod $id" >&3
    cri StopPodSandbox "{\"pod_sandbox_id\": \"$id\"}" >/dev/null 2>&1
    cri RemovePodSandbox "{\"pod_sandbox_id\": \"$id\"}" >/dev/null 2>&1
  done
}

# Stops containerd (by pid), fails when anything of ours is left, removes
# the suite's mount namespace holder, network namespace and cgroups. Also
# cleans up after a start that failed half-way.
stop_cri_containerd() {
  local rc=0
  cri_sync_pid
  if [ -n "${CONTAINERD_PID:-}" ] && cri_alive "$CONTAINERD_PID" && cri Version >/dev/null 2>&1; then
    cri_teardown 3>/dev/null
    assert_cri_nothing_left || rc=1
  fi
  if [ -n "${CONTAINERD_PID:-}" ]; then
    cri_stop_pid "$CONTAINERD_PID" || rc=1
    wait "$CONTAINERD_PID" 2>/dev/null
    CONTAINERD_PID=
    rm -f "$CONTAINERD_DIR/containerd.pid"
  fi
  if [ -n "${CRI_HOLDER_PID:-}" ]; then
    kill -KILL "$CRI_HOLDER_PID" 2>/dev/null
    wait "$CRI_HOLDER_PID" 2>/dev/null
    cri_wait_gone "$CRI_HOLDER_PID" 100 || true
    CRI_HOLDER_PID=
  fi
  if [ -n "${CONTAINERD_MNTNS:-}" ]; then
    assert_nothing_in_mntns "$CONTAINERD_MNTNS" || rc=1
    [ -z "${CONTAINERD_NSFD:-}" ] || exec {CONTAINERD_NSFD}<&-
    CONTAINERD_MNTNS=
  fi
  ip netns del "$CRI_NETNS" 2>/dev/null
  remove_cgroups "$CRI_CGROUP" || rc=1
  return $rc
}
