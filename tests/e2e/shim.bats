#!/usr/bin/env bats
# containerd's shim v2 for hull: `ctr run --runtime io.containerd.hull.v2`
# through containerd-shim-hull-v2, one VM per pod. A private containerd
# (lib/containerd.bash) in a network and mount namespace of its own, the
# busybox image imported as an OCI archive, the shim of the build tree on
# containerd's PATH (lib/shim.bash).
#
#   bats tests/e2e/shim.bats        (HULL_BUILD_DIR: the build tree, default ./build)

# The single-quoted sh -c, bash -c and jq programs in this file expand in the
# container, in the child shell or in jq, not here:
# shellcheck disable=SC2016
load lib/common
load lib/docker  # assert_nothing_in_mntns
load lib/containerd
load lib/shim

setup_file() { containerd_setup_file shim_setup_file; }
teardown_file() { containerd_teardown_file; }
setup() { e2e_setup; }
teardown() {
  [ -n "${E2E_SKIP:-}" ] && return 0
  [ -z "${EVENTS_PID:-}" ] || { kill "$EVENTS_PID" 2>/dev/null; wait "$EVENTS_PID" 2>/dev/null; }
  ctr_teardown
}

@test "shim: --version, and no action without the daemon's socket" {
  run "$SHIM" -v
  [ "$status" -eq 0 ]
  [[ $output == *containerd-shim-hull-v2* ]]
  run "$SHIM" -namespace x -id y stop
  [ "$status" -eq 2 ]
  [[ $output == *'unknown action "stop"'* ]]
}

@test "ctr run --rm: output, exit codes, and nothing left" {
  run sr --rm "$CTR_IMAGE" e2e-hello echo hello
  [ "$status" -eq 0 ] || { echo "$output" >&2; false; }
  [ "$output" = hello ]
  assert_shim_nothing_left

  run sr --rm "$CTR_IMAGE" e2e-exit3 sh -c 'echo out; echo err >&2; exit 3'
  [ "$status" -eq 3 ]
  [[ $output == *out* ]]
  [[ $output == *err* ]]
  [ -z "$(c containers ls -q)" ]
  assert_shim_nothing_left
}

@test "ctr run --rm: stdin reaches the process, and its EOF" {
  run bash -c 'printf "line1\nline2\n" | ctr --address "$0" -n "$1" run --runtime "$2" --fifo-dir "$3" --rm "$4" e2e-stdin sh -c "wc -l; echo done"' \
    "$CONTAINERD_DIR/containerd.sock" "$CTR_NAMESPACE" "$SHIM_RUNTIME" "$CONTAINERD_DIR/fifo" "$CTR_IMAGE"
  [ "$status" -eq 0 ] || { echo "$output" >&2; false; }
  [ "$output" = $'2\ndone' ] || { echo "output: $output" >&2; false; }
  assert_shim_nothing_left
}

@test "ctr run --runtime-config-path: the runtime options name the hull config" {
  printf '{"vm": {"kernel": "%s", "initrd": "%s", "memory_mib": 400}}\n' "$HULL_BUILD_DIR/guest/vmlinux" \
    "$HULL_BUILD_DIR/guest/initrd.img" >"$E2E_TMP/vm400.json"
  run sr --rm --runtime-config-path "$E2E_TMP/vm400.json" "$CTR_IMAGE" e2e-config head -1 /proc/meminfo
  [ "$status" -eq 0 ] || { echo "$output" >&2; false; }
  # 400 MiB of guest RAM (the default, 256 MiB, shows about 245000 kB).
  [ "$(awk '{print $2}' <<<"$output")" -gt 350000 ]

  echo '{"vm": {"bogus": 1}}' >"$E2E_TMP/bad.json"
  run sr --rm --runtime-config-path "$E2E_TMP/bad.json" "$CTR_IMAGE" e2e-badconfig true
  [ "$status" -ne 0 ]
  [[ $output == *"bad.json: vm.bogus: unknown key"* ]]
  c containers delete e2e-badconfig 2>/dev/null || true
  assert_shim_nothing_left
}

@test "ctr run -d, task exec, ps, metrics, pause/resume, kill, delete" {
  sr -d "$CTR_IMAGE" e2e-d sh -c 'trap "exit 3" TERM; while :; do sleep 0.1; done' >/dev/null
  [[ $(c tasks ls) == *e2e-d*RUNNING* ]]
  # The task's pid is its VM's (QEMU's), which lives while the task does.
  local pid
  pid=$(c tasks ls | awk '$1 == "e2e-d" {print $2}')
  [[ $(cat "/proc/$pid/comm") == qemu* ]]

  run c tasks exec --fifo-dir "$CONTAINERD_DIR/fifo" --exec-id x1 e2e-d sh -c 'echo in-exec; exit 5'
  [ "$status" -eq 5 ]
  [ "$output" = in-exec ]
  # Killed by a signal: 128 + the signal, as runc's shim reports it.
  run c tasks exec --fifo-dir "$CONTAINERD_DIR/fifo" --exec-id x2 e2e-d sh -c 'kill -TERM $$'
  [ "$status" -eq 143 ]

  run c tasks ps e2e-d
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -ge 2 ]

  # cgroup v2 metrics from the guest, typed as containerd's cgroups library.
  run c tasks metrics --format json e2e-d
  [ "$status" -eq 0 ] || { echo "$output" >&2; false; }
  [ "$(jq -r '.memory.usage' <<<"$output")" -gt 0 ]
  [ "$(jq -r '.pids.current' <<<"$output")" -ge 1 ]
  [ "$(jq -r '.cpu.usage_usec' <<<"$output")" -gt 0 ]

  c tasks pause e2e-d
  [[ $(c tasks ls) == *e2e-d*PAUSED* ]]
  c tasks resume e2e-d
  [[ $(c tasks ls) == *e2e-d*RUNNING* ]]

  c tasks kill e2e-d
  wait_for 30 bash -c '[[ $(ctr --address "$0" -n "$1" tasks ls) == *e2e-d*STOPPED* ]]' \
    "$CONTAINERD_DIR/containerd.sock" "$CTR_NAMESPACE"
  run c tasks delete e2e-d
  [ "$status" -eq 0 ]
  [[ $output == *"exit code 3"* ]]
  c containers delete e2e-d
  [ -z "$(c containers ls -q)" ]
  assert_shim_nothing_left
}

@test "ctr task kill of a stopped task, and delete of a running one, are refused" {
  sr -d "$CTR_IMAGE" e2e-refuse sleep 1000 >/dev/null
  run c tasks delete e2e-refuse
  [ "$status" -ne 0 ]
  [[ $output == *running* ]]
  c tasks kill -s KILL e2e-refuse
  wait_for 30 bash -c '[[ $(ctr --address "$0" -n "$1" tasks ls) == *e2e-refuse*STOPPED* ]]' \
    "$CONTAINERD_DIR/containerd.sock" "$CTR_NAMESPACE"
  run c tasks kill e2e-refuse
  [ "$status" -ne 0 ]
  [[ $output == *"not found"* ]]
  run c tasks delete e2e-refuse
  [ "$status" -eq 0 ]
  [[ $output == *"exit code 137"* ]]
  c containers delete e2e-refuse
  assert_shim_nothing_left
}

# A logging binary for --log-uri binary://: what it is given goes to files
# in $E2E_TMP (its pid, environment and arguments; each stream).
write_logger() {
  cat >"$E2E_TMP/logger.sh" <<EOF
#!/bin/sh
echo "\$\$ id=\$CONTAINER_ID ns=\$CONTAINER_NAMESPACE args=\$*" >"$E2E_TMP/logger.env"
exec 5>&-
cat <&4 >"$E2E_TMP/logger.err" &
cat <&3 >"$E2E_TMP/logger.out"
wait
EOF
  chmod 755 "$E2E_TMP/logger.sh"
}

@test "ctr run --log-uri binary://: the logger gets the output and goes with the task" {
  write_logger
  sr -d --log-uri "binary://$E2E_TMP/logger.sh?tag=t1&x" "$CTR_IMAGE" e2e-logger \
    sh -c 'echo to-out; echo to-err >&2; exit 4' >/dev/null
  wait_for 30 bash -c '[[ $(ctr --address "$0" -n "$1" tasks ls) == *e2e-logger*STOPPED* ]]' \
    "$CONTAINERD_DIR/containerd.sock" "$CTR_NAMESPACE"
  local pid env
  env=$(cat "$E2E_TMP/logger.env")
  pid=${env%% *}
  [ "${env#* }" = "id=e2e-logger ns=$CTR_NAMESPACE args=tag t1 x " ] || { echo "$env" >&2; false; }
  # The logger ends once the output has: its pipes closed.
  wait_for 10 bash -c '! kill -0 "$0" 2>/dev/null' "$pid"
  [ "$(cat "$E2E_TMP/logger.out")" = to-out ]
  [ "$(cat "$E2E_TMP/logger.err")" = to-err ]
  run c tasks delete e2e-logger
  [ "$status" -eq 0 ]
  [[ $output == *"exit code 4"* ]]
  c containers delete e2e-logger
  # Nothing of the logger's session (it and its cats) is left.
  [ -z "$(processes_under "$E2E_TMP/logger.sh")" ]
  [ -z "$(pgrep -s "$pid")" ]
  assert_shim_nothing_left
}

@test "ctr task exec --log-uri binary://: the logger logs for the exec by its id" {
  write_logger
  sr -d "$CTR_IMAGE" e2e-logexec sleep 1000 >/dev/null
  run c tasks exec --log-uri "binary://$E2E_TMP/logger.sh?exec=1" --exec-id x1 e2e-logexec \
    sh -c 'echo exec-out; echo exec-err >&2; exit 2'
  [ "$status" -eq 2 ] || { echo "$output" >&2; false; }
  local pid env
  env=$(cat "$E2E_TMP/logger.env")
  pid=${env%% *}
  # CONTAINER_ID is the exec's id, as runc's shim gives it.
  [ "${env#* }" = "id=x1 ns=$CTR_NAMESPACE args=exec 1" ] || { echo "$env" >&2; false; }
  wait_for 10 bash -c '! kill -0 "$0" 2>/dev/null' "$pid"
  [ "$(cat "$E2E_TMP/logger.out")" = exec-out ]
  [ "$(cat "$E2E_TMP/logger.err")" = exec-err ]
  c tasks kill -s KILL e2e-logexec
  wait_for 30 bash -c '[[ $(ctr --address "$0" -n "$1" tasks ls) == *e2e-logexec*STOPPED* ]]' \
    "$CONTAINERD_DIR/containerd.sock" "$CTR_NAMESPACE"
  c tasks delete e2e-logexec >/dev/null
  c containers delete e2e-logexec
  [ -z "$(processes_under "$E2E_TMP/logger.sh")" ]
  assert_shim_nothing_left
}

@test "ctr run --log-uri binary://: a logger that exits before it is ready fails the create" {
  printf '#!/bin/sh\nexit 7\n' >"$E2E_TMP/bad-logger.sh"
  chmod 755 "$E2E_TMP/bad-logger.sh"
  run sr --log-uri "binary://$E2E_TMP/bad-logger.sh" "$CTR_IMAGE" e2e-badlogger echo never
  [ "$status" -ne 0 ]
  [[ $output == *"logging binary $E2E_TMP/bad-logger.sh exited (exited with status 7) before it"* ]] ||
    { echo "$output" >&2; false; }
  [[ $output != *never* ]]
  [ -z "$(c tasks ls -q)" ]
  c containers delete e2e-badlogger
  assert_shim_nothing_left
}

@test "ctr run -t: a terminal (driven by script)" {
  run bash -c '(sleep 2; printf "echo hello-\$((6*7))\n"; sleep 1; printf "%s; tty; exit 4\n" "$6"; sleep 2) | timeout 120 script -qec "ctr --address $0 -n $1 run --runtime $2 --fifo-dir $3 --snapshotter $4 -t --rm $5 e2e-tty sh" /dev/null' \
    "$CONTAINERD_DIR/containerd.sock" "$CTR_NAMESPACE" "$SHIM_RUNTIME" "$CONTAINERD_DIR/fifo" \
    "${HULL_E2E_SNAPSHOTTER:-overlayfs}" "$CTR_IMAGE" "$TTY_CHECK_SH"
  [ "$status" -eq 4 ] || { echo "$output" >&2; false; }
  [[ $output == *hello-42* ]] || { echo "$output" >&2; false; }
  [[ $output == *term-ok-42* ]] || { echo "$output" >&2; false; }
  [[ $output == *"/dev/pts/"* ]]
  assert_shim_nothing_left
}

@test "ctr events: create, start, exit, delete in containerd's order" {
  ctr --address "$CONTAINERD_DIR/containerd.sock" events >"$E2E_TMP/events.log" 2>&1 &
  EVENTS_PID=$!
  # ctr subscribes a moment after it starts.
  wait_for 10 bash -c 'ctr --address "$0" -n "$1" namespaces ls >/dev/null' \
    "$CONTAINERD_DIR/containerd.sock" "$CTR_NAMESPACE"
  sleep 1
  run sr --rm "$CTR_IMAGE" e2e-events sh -c 'exit 7'
  [ "$status" -eq 7 ]
  wait_for 10 grep -q '/tasks/delete.*e2e-events' "$E2E_TMP/events.log"
  kill "$EVENTS_PID"
  wait "$EVENTS_PID" 2>/dev/null || true
  EVENTS_PID=
  local topics
  topics=$(grep -F '"e2e-events"' "$E2E_TMP/events.log" | awk '{print $6}' | grep '^/tasks/' | tr '\n' ' ')
  [ "$topics" = "/tasks/create /tasks/start /tasks/exit /tasks/delete " ] || {
    echo "topics: $topics" >&2
    cat "$E2E_TMP/events.log" >&2
    false
  }
  grep -F '/tasks/exit' "$E2E_TMP/events.log" | grep -q '"exit_status":7'
  assert_shim_nothing_left
}

@test "a process that exits while its Wait is pending is reported once" {
  ctr --address "$CONTAINERD_DIR/containerd.sock" events >"$E2E_TMP/once-events.log" 2>&1 &
  EVENTS_PID=$!
  sleep 1
  # ctr run waits (Wait pending from before Start) while the task runs; an
  # exec's process exits while `ctr tasks exec` waits for it.
  sr "$CTR_IMAGE" e2e-once sh -c 'sleep 4; exit 9' >"$E2E_TMP/once-run.log" 2>&1 &
  local run_pid=$!
  wait_for 30 bash -c '[[ $(ctr --address "$0" -n "$1" tasks ls) == *e2e-once*RUNNING* ]]' \
    "$CONTAINERD_DIR/containerd.sock" "$CTR_NAMESPACE"
  run c tasks exec --fifo-dir "$CONTAINERD_DIR/fifo" --exec-id x1 e2e-once sh -c 'sleep 1; exit 5'
  [ "$status" -eq 5 ]
  local rc=0
  wait "$run_pid" || rc=$?
  [ "$rc" -eq 9 ] || { cat "$E2E_TMP/once-run.log" >&2; false; }
  # ctr run deleted the task after its Wait returned.
  c containers delete e2e-once
  wait_for 10 grep -q '/tasks/delete.*e2e-once' "$E2E_TMP/once-events.log"
  sleep 1
  kill "$EVENTS_PID"
  wait "$EVENTS_PID" 2>/dev/null || true
  EVENTS_PID=
  # One /tasks/exit for the exec, one for the init process; nothing twice.
  local exits
  exits=$(grep -F '"e2e-once"' "$E2E_TMP/once-events.log" | grep -F '/tasks/exit')
  [ "$(wc -l <<<"$exits")" -eq 2 ] || { echo "$exits" >&2; false; }
  grep -F '"id":"x1"' <<<"$exits" | grep -q '"exit_status":5'
  grep -F '"id":"e2e-once"' <<<"$exits" | grep -q '"exit_status":9'
  grep -F '"e2e-once"' "$E2E_TMP/once-events.log" | grep -F '/tasks/delete' | grep -q '"exit_status":9'
  [ "$(grep -F '"e2e-once"' "$E2E_TMP/once-events.log" | grep -cF '/tasks/exec-started')" -eq 1 ]
  assert_shim_nothing_left
}

@test "out of memory: /tasks/oom and an exit with 137" {
  ctr --address "$CONTAINERD_DIR/containerd.sock" events >"$E2E_TMP/oom-events.log" 2>&1 &
  EVENTS_PID=$!
  sleep 1
  # /dev/shm's pages count against the container's 32 MiB: the writer is OOM-killed.
  run sr --rm --memory-limit 33554432 "$CTR_IMAGE" e2e-oom sh -c 'head -c 60m /dev/zero >/dev/shm/x'
  [ "$status" -eq 137 ] || { echo "$output" >&2; false; }
  wait_for 10 grep -q '/tasks/delete.*e2e-oom' "$E2E_TMP/oom-events.log"
  kill "$EVENTS_PID"
  wait "$EVENTS_PID" 2>/dev/null || true
  EVENTS_PID=
  # The OOM kill and the exit reach the shim on separate streams: their
  # order is not fixed (nor is it with runc's shim).
  local topics
  topics=$(grep -F '"e2e-oom"' "$E2E_TMP/oom-events.log" | awk '{print $6}' | grep '^/tasks/' | tr '\n' ' ')
  [[ $topics == *"/tasks/oom "* ]] || { echo "topics: $topics" >&2; false; }
  [ "${topics//\/tasks\/oom /}" = "/tasks/create /tasks/start /tasks/exit /tasks/delete " ] || {
    echo "topics: $topics" >&2
    false
  }
  assert_shim_nothing_left
}

@test "a pod's second task joins the pod's shim and VM" {
  local pod=io.kubernetes.cri.sandbox-id=e2e-pod
  sr -d --annotation "$pod" "$CTR_IMAGE" e2e-pod sleep 1001 >/dev/null
  sr -d --annotation "$pod" "$CTR_IMAGE" e2e-app sh -c 'echo app-up; sleep 1000' >/dev/null
  # One shim and one VM: both tasks report the same QEMU.
  local p1 p2
  p1=$(c tasks ls | awk '$1 == "e2e-pod" {print $2}')
  p2=$(c tasks ls | awk '$1 == "e2e-app" {print $2}')
  [ -n "$p1" ] && [ "$p1" = "$p2" ]
  [ "$(shim_pid_of e2e-pod | wc -l)" -eq 1 ]
  [ -z "$(shim_pid_of e2e-app)" ]
  [ "$(ls "$(shim_state_dir)/sandboxes")" = e2e-pod ]
  # Each task runs in a container of its own in that VM: the app sees its
  # sleep, not the pod's.
  run c tasks exec --fifo-dir "$CONTAINERD_DIR/fifo" --exec-id x1 e2e-app sh -c 'ps -o args | grep -x "sleep 100[0-9]"'
  [ "$status" -eq 0 ]
  [ "$output" = "sleep 1000" ]

  c tasks kill -s KILL e2e-app
  wait_for 30 bash -c '[[ $(ctr --address "$0" -n "$1" tasks ls) == *e2e-app*STOPPED* ]]' \
    "$CONTAINERD_DIR/containerd.sock" "$CTR_NAMESPACE"
  c tasks delete e2e-app >/dev/null
  c containers delete e2e-app
  # The pod's VM stays while a task of the pod does.
  kill -0 "$p1"
  [[ $(c tasks ls) == *e2e-pod*RUNNING* ]]

  c tasks kill -s KILL e2e-pod
  wait_for 30 bash -c '[[ $(ctr --address "$0" -n "$1" tasks ls) == *e2e-pod*STOPPED* ]]' \
    "$CONTAINERD_DIR/containerd.sock" "$CTR_NAMESPACE"
  c tasks delete e2e-pod >/dev/null
  c containers delete e2e-pod
  assert_shim_nothing_left
}

@test "a killed shim: containerd's delete removes its VM and files" {
  sr -d "$CTR_IMAGE" e2e-dead sleep 1000 >/dev/null
  local shim_pid qemu
  shim_pid=$(shim_pid_of e2e-dead)
  qemu=$(c tasks ls | awk '$1 == "e2e-dead" {print $2}')
  [ -n "$shim_pid" ] && [ -n "$qemu" ]
  kill -KILL "$shim_pid"
  # containerd sees the connection close, runs `delete`, forgets the task.
  wait_for 30 bash -c '! ctr --address "$0" -n "$1" tasks ls -q | grep -qx e2e-dead' \
    "$CONTAINERD_DIR/containerd.sock" "$CTR_NAMESPACE"
  wait_for 10 bash -c '! kill -0 "$0" 2>/dev/null' "$qemu"
  c containers delete e2e-dead
  assert_shim_nothing_left
}

@test "the VM killed: the task exits 137, and delete leaves nothing" {
  sr -d "$CTR_IMAGE" e2e-vmdead sleep 1000 >/dev/null
  local qemu
  qemu=$(c tasks ls | awk '$1 == "e2e-vmdead" {print $2}')
  [[ $(cat "/proc/$qemu/comm") == qemu* ]]
  kill -KILL "$qemu"
  wait_for 30 bash -c '[[ $(ctr --address "$0" -n "$1" tasks ls) == *e2e-vmdead*STOPPED* ]]' \
    "$CONTAINERD_DIR/containerd.sock" "$CTR_NAMESPACE"
  run c tasks delete e2e-vmdead
  [ "$status" -eq 0 ]
  [[ $output == *"exit code 137"* ]]
  c containers delete e2e-vmdead
  assert_shim_nothing_left
}

@test "containerd: no task or container left" {
  [ -z "$(c tasks ls -q)" ]
  [ -z "$(c containers ls -q)" ]
  assert_shim_nothing_left
}
