#!/usr/bin/env bats
# containerd with the runtime under test through its runc shim:
# `ctr run --runc-binary <runtime>` (io.containerd.runc.v2 runs the binary as
# it would run runc). A private containerd (lib/containerd.bash), the busybox
# image imported as an OCI archive, no registry.
#
#   HULL_E2E_RUNTIME=/usr/sbin/runc bats tests/e2e/containerd.bats   (the reference)
#   bats tests/e2e/containerd.bats                                   (the built hull)

# The single-quoted sh -c, bash -c and jq programs in this file expand in the
# container, in the child shell or in jq, not here:
# shellcheck disable=SC2016
load lib/common
load lib/cli
load lib/docker  # assert_nothing_in_mntns
load lib/containerd

setup_file() { containerd_setup_file e2e_setup_file; }
teardown_file() { containerd_teardown_file; }
setup() { e2e_setup; }
teardown() { [ -n "${E2E_SKIP:-}" ] || ctr_teardown; }

@test "ctr run --rm: output and exit code" {
  run ctr_run --rm "$CTR_IMAGE" e2e-run sh -c 'echo hello; exit 3'
  [ "$status" -eq 3 ]
  [ "$output" = hello ]
  [ -z "$(c containers ls -q)" ]
}

@test "ctr run -d, task exec, ps, pause/resume, kill (SIGTERM), delete" {
  ctr_run -d "$CTR_IMAGE" e2e-d sh -c 'trap "exit 3" TERM; while :; do sleep 0.1; done' >/dev/null
  [[ $(c tasks ls) == *e2e-d*RUNNING* ]]

  run c tasks exec --fifo-dir "$CONTAINERD_DIR/fifo" --exec-id x1 e2e-d sh -c 'echo in-exec; exit 5'
  [ "$status" -eq 5 ]
  [ "$output" = in-exec ]

  run c tasks ps e2e-d
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -ge 2 ]

  # The shim reads the host cgroup of the task's pid, as for runc: with hull
  # that cgroup holds the container's VM, so its memory is in use there.
  run c tasks metrics --format json e2e-d
  [ "$status" -eq 0 ] || { echo "$output" >&2; false; }
  local usage
  usage=$(jq -r '(.memory.usage.usage // .memory.usage // 0)' <<<"$output")
  [ "$usage" -gt 0 ] || { echo "metrics: $output" >&2; false; }

  c tasks pause e2e-d
  [[ $(c tasks ls) == *e2e-d*PAUSED* ]]
  c tasks resume e2e-d
  [[ $(c tasks ls) == *e2e-d*RUNNING* ]]

  c tasks kill e2e-d
  wait_for 30 bash -c '[[ $(ctr --address "$0" -n "$1" tasks ls) == *e2e-d*STOPPED* ]]' \
    "$CONTAINERD_DIR/containerd.sock" "$CTR_NAMESPACE"
  c tasks delete e2e-d
  c containers delete e2e-d
  [ -z "$(c containers ls -q)" ]
}

@test "ctr run -t: a pty (driven by script)" {
  run bash -c '(sleep 2; printf "echo hello-\$((6*7))\n"; sleep 1; printf "%s; exit 4\n" "$6"; sleep 2) | timeout 60 script -qec "ctr --address $0 -n $1 run --runc-binary $2 --fifo-dir $3 --snapshotter $4 -t --rm $5 e2e-tty sh" /dev/null' \
    "$CONTAINERD_DIR/containerd.sock" "$CTR_NAMESPACE" "$RUNTIME" "$CONTAINERD_DIR/fifo" \
    "${HULL_E2E_SNAPSHOTTER:-overlayfs}" "$CTR_IMAGE" "$TTY_CHECK_SH"
  [ "$status" -eq 4 ]
  [[ $output == *hello-42* ]]
  [[ $output == *term-ok-42* ]]
}

@test "ctr run -t: the terminal is a /dev/pts/N of the container's devpts" {
  run bash -c '(sleep 2; printf "tty; exit 0\n"; sleep 2) | timeout 60 script -qec "ctr --address $0 -n $1 run --runc-binary $2 --fifo-dir $3 --snapshotter $4 -t --rm $5 e2e-ttyname sh" /dev/null' \
    "$CONTAINERD_DIR/containerd.sock" "$CTR_NAMESPACE" "$RUNTIME" "$CONTAINERD_DIR/fifo" \
    "${HULL_E2E_SNAPSHOTTER:-overlayfs}" "$CTR_IMAGE"
  [ "$status" -eq 0 ]
  [[ $output == *"/dev/pts/"* ]]
}

@test "ctr run --memory-limit --cpu-quota: the limits reach the container's cgroup" {
  # (ctr's default spec has no /sys/fs/cgroup mount; docker's and podman's do)
  run ctr_run --rm --memory-limit 67108864 --cpu-quota 50000 --cpu-period 100000 \
    --mount type=cgroup,src=cgroup,dst=/sys/fs/cgroup,options=ro:nosuid:nodev:noexec \
    "$CTR_IMAGE" e2e-limits sh -c "$CGROUP_LIMITS_SH"
  [ "$status" -eq 0 ]
  [[ $output == "mem=67108864 cpu=50000 100000 pids="* ]]
}

@test "containerd: no task or container left" {
  [ -z "$(c tasks ls -q)" ]
  [ -z "$(c containers ls -q)" ]
}
