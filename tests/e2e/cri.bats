#!/usr/bin/env bats
# Kubernetes' path: pods through containerd's CRI plugin with the runtime
# handler `hull` (io.containerd.hull.v2, containerd-shim-hull-v2), one VM per
# pod, on a CNI bridge. A private containerd in a network namespace this suite
# makes (lib/cri.bash), driven by hull-e2e-cri, the project's CRI v1 client.
#
#   bats tests/e2e/cri.bats        (HULL_BUILD_DIR: the build tree, default ./build)

# The single-quoted sh -c and jq programs expand in the container or in jq:
# shellcheck disable=SC2016
load lib/common
load lib/docker  # assert_nothing_in_mntns
load lib/containerd
load lib/shim
load lib/cri

setup_file() { cri_setup_file; }
teardown_file() {
  local rc=0
  [ -n "${E2E_SKIP:-}" ] || stop_cri_containerd || rc=1
  e2e_teardown_file || rc=1
  return $rc
}
# A test may have restarted containerd (a new pid).
setup() {
  e2e_setup
  cri_sync_pid
}
teardown() {
  [ -n "${E2E_SKIP:-}" ] && return 0
  cri_teardown
}

@test "cri: Version, and the runtime and network are ready" {
  run cri Version '{}'
  [ "$status" -eq 0 ] || { echo "$output" >&2; false; }
  [ "$(jq -r .runtime_name <<<"$output")" = containerd ]
  [ "$(jq -r .runtime_api_version <<<"$output")" = v1 ]
  run cri Status '{}'
  [ "$status" -eq 0 ]
  [ "$(jq -r '.status.conditions[] | select(.type == "NetworkReady") | .status' <<<"$output")" = true ]
}

@test "cri: a pod on hull, from RunPodSandbox to nothing left" {
  # The pod's resources (the sum of its containers') size its VM: 2 vCPUs,
  # 256 MiB for the containers plus the guest's own.
  local extra='{"linux": {"resources": {"cpu_period": 100000, "cpu_quota": 200000, "memory_limit_in_bytes": 268435456}}}'
  local pcfg pod
  pcfg=$(cri_pod_config p1 "$extra")
  pod=$(cri RunPodSandbox "{\"config\": $pcfg, \"runtime_handler\": \"hull\"}" | jq -r .pod_sandbox_id)
  [ -n "$pod" ] && [ "$pod" != null ]

  run cri PodSandboxStatus "{\"pod_sandbox_id\": \"$pod\"}"
  [ "$status" -eq 0 ]
  [ "$(jq -r .status.state <<<"$output")" = SANDBOX_READY ]
  [ "$(jq -r .status.runtime_handler <<<"$output")" = hull ]
  local ip
  ip=$(jq -r .status.network.ip <<<"$output")
  [[ $ip == "$CRI_SUBNET".* ]] || { echo "pod ip: $ip" >&2; false; }

  # A container with limits of its own, logging in CRI's format.
  local c1
  c1=$(cri_create "$pod" "$pcfg" c1 'echo hello-from-c1; echo err-from-c1 >&2; trap "exit 3" TERM; while :; do sleep 0.1; done' \
    '{"linux": {"resources": {"cpu_period": 100000, "cpu_quota": 50000, "memory_limit_in_bytes": 134217728}}}')
  [ -n "$c1" ] && [ "$c1" != null ]
  [ "$(cri_container_state "$c1")" = CONTAINER_CREATED ]
  cri StartContainer "{\"container_id\": \"$c1\"}" >/dev/null
  [ "$(cri_container_state "$c1")" = CONTAINER_RUNNING ]

  # The pod's network, DNS and name in the container.
  run cri_exec "$c1" ip -o -4 addr show
  [ "$status" -eq 0 ] || { echo "$output" >&2; false; }
  [[ $output == *"inet $ip/24"* ]] || { echo "$output" >&2; false; }
  run cri_exec "$c1" cat /etc/resolv.conf
  [[ $output == *"nameserver 10.88.77.53"* ]] || { echo "$output" >&2; false; }
  [[ $output == *"search hull.test"* ]]
  [[ $output == *"options ndots:2"* ]]
  run cri_exec "$c1" hostname
  [ "$output" = p1 ]
  run cri_exec "$c1" ping -c 1 -W 10 "$CRI_GATEWAY"
  [ "$status" -eq 0 ] || { echo "$output" >&2; false; }
  [[ $output == *"1 packets received"* ]]
  run cri_exec "$c1" sh -c 'exit 7'
  [ "$status" -eq 7 ]

  # The VM's size from the pod's annotations; the container's limits in its
  # cgroup in the guest.
  run cri_exec "$c1" nproc
  [ "$output" = 2 ]
  run cri_exec "$c1" sh -c 'head -1 /proc/meminfo'
  [ "$(awk '{print $2}' <<<"$output")" -gt 300000 ] || { echo "$output" >&2; false; }
  run cri_exec "$c1" cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max
  [ "$output" = $'134217728\n50000 100000' ] || { echo "$output" >&2; false; }

  # The task pid is the pod's QEMU, which is in the pod's host cgroup with
  # the shim.
  local qemu shims
  qemu=$(cri ContainerStatus "{\"container_id\": \"$c1\", \"verbose\": true}" | jq -r '.info.info' | jq -r .pid)
  [[ $(cat "/proc/$qemu/comm") == qemu* ]]
  grep -q ":/$CRI_CGROUP/$pod\$" "/proc/$qemu/cgroup" || { cat "/proc/$qemu/cgroup" >&2; false; }
  shims=$(cri_shim_pids)
  [ "$(wc -w <<<"$shims")" -eq 1 ]
  grep -q ":/$CRI_CGROUP/$pod\$" "/proc/$shims/cgroup"
  # That cgroup holds the pod to its VM's RAM (256 MiB for the containers,
  # 96 for the guest's own) plus the host overhead (96 MiB), as in runc mode.
  if [ -d /sys/fs/cgroup/memory ]; then
    [ "$(cat "/sys/fs/cgroup/memory/$CRI_CGROUP/$pod/memory.limit_in_bytes")" -eq $(((256 + 96 + 96) << 20)) ]
  fi

  run cri ContainerStatus "{\"container_id\": \"$c1\"}"
  [ "$(jq -r .status.state <<<"$output")" = CONTAINER_RUNNING ]
  [ "$(jq -r .status.metadata.name <<<"$output")" = c1 ]
  [ "$(jq -r .status.started_at <<<"$output")" -gt 0 ]

  # Stats of the container, from its cgroup in the guest.
  run cri ContainerStats "{\"container_id\": \"$c1\"}"
  [ "$status" -eq 0 ] || { echo "$output" >&2; false; }
  [ "$(jq -r '.stats.memory.working_set_bytes.value | tonumber' <<<"$output")" -gt 0 ]
  [ "$(jq -r '.stats.cpu.usage_core_nano_seconds.value | tonumber' <<<"$output")" -gt 0 ]

  # New limits reach the guest's cgroup.
  cri UpdateContainerResources "{\"container_id\": \"$c1\", \"linux\": {\"cpu_period\": 100000, \"cpu_quota\": 30000, \"memory_limit_in_bytes\": 100663296}}" >/dev/null
  run cri_exec "$c1" cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max
  [ "$output" = $'100663296\n30000 100000' ] || { echo "$output" >&2; false; }

  # A second container of the pod: the same shim and QEMU.
  local c2
  c2=$(cri_create "$pod" "$pcfg" c2 'trap "" TERM; echo c2-up; while :; do sleep 0.1; done')
  cri StartContainer "{\"container_id\": \"$c2\"}" >/dev/null
  [ "$(cri ContainerStatus "{\"container_id\": \"$c2\", \"verbose\": true}" | jq -r '.info.info' | jq -r .pid)" = "$qemu" ]
  [ "$(cri_shim_pids)" = "$shims" ]
  run cri_exec "$c2" ip -o -4 addr show
  [[ $output == *"inet $ip/24"* ]]

  # StopContainer: SIGTERM (c1 exits 3), or SIGKILL after the timeout (c2
  # ignores SIGTERM: 137).
  cri StopContainer "{\"container_id\": \"$c1\", \"timeout\": 10}" >/dev/null
  run cri ContainerStatus "{\"container_id\": \"$c1\"}"
  [ "$(jq -r .status.state <<<"$output")" = CONTAINER_EXITED ]
  [ "$(jq -r .status.exit_code <<<"$output")" -eq 3 ]
  local t0=$SECONDS
  cri StopContainer "{\"container_id\": \"$c2\", \"timeout\": 2}" >/dev/null
  [ $((SECONDS - t0)) -ge 2 ]
  run cri ContainerStatus "{\"container_id\": \"$c2\"}"
  [ "$(jq -r .status.state <<<"$output")" = CONTAINER_EXITED ]
  [ "$(jq -r .status.exit_code <<<"$output")" -eq 137 ]

  # CRI's log format: <RFC 3339 time> <stream> <F|P> <line>.
  local log=$CONTAINERD_DIR/logs/p1/c1.log
  grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9:]+) stdout F hello-from-c1$' "$log" || { cat "$log" >&2; false; }
  grep -Eq ' stderr F err-from-c1$' "$log"
  grep -q ' stdout F c2-up$' "$CONTAINERD_DIR/logs/p1/c2.log"

  cri RemoveContainer "{\"container_id\": \"$c1\"}" >/dev/null
  cri StopPodSandbox "{\"pod_sandbox_id\": \"$pod\"}" >/dev/null
  [ "$(cri_pod_state "$pod")" = SANDBOX_NOTREADY ]
  cri RemovePodSandbox "{\"pod_sandbox_id\": \"$pod\"}" >/dev/null
  run cri PodSandboxStatus "{\"pod_sandbox_id\": \"$pod\"}"
  [ "$status" -ne 0 ]
  run kill -0 "$qemu"
  [ "$status" -ne 0 ]
  assert_cri_nothing_left
}

# A running pod of one busybox container; sets POD, POD_CFG, CTR, QEMU.
run_pod_with_container() {
  POD_CFG=$(cri_pod_config "$1")
  POD=$(cri RunPodSandbox "{\"config\": $POD_CFG, \"runtime_handler\": \"hull\"}" | jq -r .pod_sandbox_id)
  CTR=$(cri_create "$POD" "$POD_CFG" "$1-c" 'echo up; sleep 100000')
  cri StartContainer "{\"container_id\": \"$CTR\"}" >/dev/null
  QEMU=$(cri ContainerStatus "{\"container_id\": \"$CTR\", \"verbose\": true}" | jq -r '.info.info' | jq -r .pid)
  [[ $(cat "/proc/$QEMU/comm") == qemu* ]]
}

# The pod failed: its container exited (with 137, or with one of the codes
# in $1: when the shim itself died, CRI's Wait fails and it records 255),
# the pod is NotReady, and stopping and removing it leaves nothing.
assert_pod_failed_and_removable() {
  local codes=${1:-137} code
  wait_for 60 bash -c '[ "$("$0" -a "$1" ContainerStatus "{\"container_id\": \"$2\"}" | jq -r .status.state)" = CONTAINER_EXITED ]' \
    "$CRI_CLIENT" "$CONTAINERD_DIR/containerd.sock" "$CTR" || {
    cri ContainerStatus "{\"container_id\": \"$CTR\"}" >&2
    tail -20 "$CONTAINERD_DIR/containerd.log" >&2
    false
  }
  code=$(cri ContainerStatus "{\"container_id\": \"$CTR\"}" | jq -r .status.exit_code)
  [[ " $codes " == *" $code "* ]] || { echo "exit code $code, expected one of $codes" >&2; false; }
  wait_for 60 bash -c '[ "$("$0" -a "$1" PodSandboxStatus "{\"pod_sandbox_id\": \"$2\"}" | jq -r .status.state)" = SANDBOX_NOTREADY ]' \
    "$CRI_CLIENT" "$CONTAINERD_DIR/containerd.sock" "$POD"
  cri StopPodSandbox "{\"pod_sandbox_id\": \"$POD\"}" >/dev/null
  cri RemovePodSandbox "{\"pod_sandbox_id\": \"$POD\"}" >/dev/null
  assert_cri_nothing_left
}

@test "cri: QEMU killed: the pod's tasks exit, the pod is NotReady, removal leaves nothing" {
  run_pod_with_container qdead
  kill -KILL "$QEMU"
  assert_pod_failed_and_removable
}

@test "cri: virtiofsd killed: the same" {
  run_pod_with_container vdead
  local vfs='' p
  for p in $(cri_processes); do
    [[ $(cat "/proc/$p/comm") != virtiofsd* ]] || vfs+=" $p"
  done
  [ -n "$vfs" ]
  # shellcheck disable=SC2086  # each of them (virtiofsd may be two processes)
  kill -KILL $vfs
  assert_pod_failed_and_removable
}

@test "cri: the shim SIGKILLed: containerd's delete leaves nothing" {
  run_pod_with_container sdead
  local shim
  shim=$(cri_shim_pids)
  [ "$(wc -w <<<"$shim")" -eq 1 ]
  kill -KILL "$shim"
  wait_for 30 bash -c '! kill -0 "$0" 2>/dev/null' "$QEMU"
  assert_pod_failed_and_removable "137 255"
}

@test "cri: containerd restarted while a pod runs: the shim keeps it, containerd reconnects" {
  run_pod_with_container restart
  local shim
  shim=$(cri_shim_pids)
  [ "$(wc -w <<<"$shim")" -eq 1 ]

  restart_cri_containerd
  # CRI recovers the pod and its container from containerd's tasks, which
  # reconnect to the running shim.
  wait_for 60 bash -c '[ "$("$0" -a "$1" PodSandboxStatus "{\"pod_sandbox_id\": \"$2\"}" | jq -r .status.state)" = SANDBOX_READY ]' \
    "$CRI_CLIENT" "$CONTAINERD_DIR/containerd.sock" "$POD" || {
    cri PodSandboxStatus "{\"pod_sandbox_id\": \"$POD\"}" >&2
    tail -30 "$CONTAINERD_DIR/containerd.log" >&2
    false
  }
  [ "$(cri_container_state "$CTR")" = CONTAINER_RUNNING ]
  run cri_exec "$CTR" sh -c 'echo exec-after-restart; exit 6'
  [ "$status" -eq 6 ] || { echo "$output" >&2; false; }
  [ "$output" = exec-after-restart ]
  # The same shim and VM serve it.
  [ "$(cri_shim_pids)" = "$shim" ]
  kill -0 "$QEMU"
  [ "$(cri ContainerStatus "{\"container_id\": \"$CTR\", \"verbose\": true}" | jq -r '.info.info' | jq -r .pid)" = "$QEMU" ]

  # The new containerd gets the shim's events and exits: a second container
  # joins the pod's shim, and both stop with their exit codes.
  local c2
  c2=$(cri_create "$POD" "$POD_CFG" restart-c2 'trap "exit 4" TERM; echo c2-up; while :; do sleep 0.1; done')
  cri StartContainer "{\"container_id\": \"$c2\"}" >/dev/null
  [ "$(cri_container_state "$c2")" = CONTAINER_RUNNING ]
  [ "$(cri_shim_pids)" = "$shim" ]
  cri StopContainer "{\"container_id\": \"$c2\", \"timeout\": 10}" >/dev/null
  run cri ContainerStatus "{\"container_id\": \"$c2\"}"
  [ "$(jq -r .status.state <<<"$output")" = CONTAINER_EXITED ]
  [ "$(jq -r .status.exit_code <<<"$output")" -eq 4 ]
  cri StopContainer "{\"container_id\": \"$CTR\", \"timeout\": 1}" >/dev/null
  run cri ContainerStatus "{\"container_id\": \"$CTR\"}"
  [ "$(jq -r .status.state <<<"$output")" = CONTAINER_EXITED ]
  [ "$(jq -r .status.exit_code <<<"$output")" -eq 137 ]

  cri StopPodSandbox "{\"pod_sandbox_id\": \"$POD\"}" >/dev/null
  cri RemovePodSandbox "{\"pod_sandbox_id\": \"$POD\"}" >/dev/null
  run kill -0 "$QEMU"
  [ "$status" -ne 0 ]
  assert_cri_nothing_left
}

@test "cri: an idle pod's host memory (PSS), for overhead.podFixed" {
  run_pod_with_container idle
  sleep 5
  local p name pss total=0 shim=0
  for p in $(cri_processes); do
    name=$(cat "/proc/$p/comm")
    pss=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup")
    echo "# $name (pid $p): PSS $pss kB" >&3
    total=$((total + pss))
    [ "$name" != containerd-shim ] || shim=$pss
  done
  echo "# pod total PSS: $total kB (shim $shim kB)" >&3
  [ "$shim" -gt 0 ] && [ "$shim" -lt 16384 ]
}
