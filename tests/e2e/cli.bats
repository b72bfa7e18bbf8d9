#!/usr/bin/env bats
# runc-style CLI lifecycle tests of one runtime binary, in the manner of runc's
# own tests/integration/*.bats: run, create/start, state transitions, kill,
# delete, exec, tty with a console socket, pause/resume, update, ps, list,
# events, hooks, pid-file, exit codes and bad inputs with runc's error shape
# (`level=error msg="..."`, exit status 1) and no state left behind.
#
#   HULL_E2E_RUNTIME=/usr/sbin/runc bats tests/e2e/cli.bats   (the reference)
#   bats tests/e2e/cli.bats                                   (the built hull)
#
# Assertions stay within what the runtime-spec and runc agree on, so the same
# file passes with runc and with hull; where runc 1.1 deviates from the spec
# (poststart hooks run during create), the test checks only the common part.

load lib/common
load lib/cli

setup_file() { e2e_setup_file; }
teardown_file() {
  [ -n "${E2E_SKIP:-}" ] || delete_all
  e2e_teardown_file
}
setup() {
  e2e_setup
  make_bundle
}
teardown() { cli_teardown; }

@test "run: the process's exit code is run's exit code, and nothing is left" {
  set_args sh -c 'echo hello from $(hostname); exit 7'
  run rt run -b "$BUNDLE" e2e-run
  [ "$status" -eq 7 ]
  [[ $output == *"hello from e2e"* ]]
  assert_no_state
}

@test "run: a process killed by a signal gives 128+signal" {
  # (the container's init ignores signals sent from inside its pid namespace,
  # so the kill comes from outside, as docker's would)
  rt run -b "$BUNDLE" e2e-sig </dev/null >"$BUNDLE/run.out" 2>&1 &
  runpid=$!
  wait_for_status e2e-sig running
  rt kill e2e-sig KILL
  status=0
  wait "$runpid" || status=$?
  [ "$status" -eq 137 ]
  assert_no_state
}

@test "run: stdin and stdout are the caller's pipes" {
  set_args sh -c 'read line; echo "got:$line"'
  run bash -c 'echo ping | "$0" --root "$1" run -b "$2" e2e-pipe' "$RUNTIME" "$E2E_TMP/root" "$BUNDLE"
  [ "$status" -eq 0 ]
  [ "$output" = "got:ping" ]
}

@test "run: what the container writes right before it exits is on the host when run returns" {
  mkdir "$BUNDLE/vol"
  update_config '.mounts += [{"destination": "/vol", "type": "bind", "source": $v, "options": ["rbind", "rw"]}]' \
    --arg v "$BUNDLE/vol"
  set_args sh -c 'echo rootfs-42 >/written; dd if=/dev/zero of=/vol/big bs=1M count=8 2>/dev/null; echo vol-42 >/vol/last'
  run rt run -b "$BUNDLE" e2e-write
  [ "$status" -eq 0 ]
  # at once, no waiting: run returns only after all of it is in place
  [ "$(cat "$BUNDLE/rootfs/written")" = rootfs-42 ]
  [ "$(stat -c %s "$BUNDLE/vol/big")" -eq $((8 << 20)) ]
  [ "$(cat "$BUNDLE/vol/last")" = vol-42 ]
  assert_no_state
  assert_nothing_left_under "$E2E_TMP/root"
  assert_nothing_left_under "$BUNDLE"
}

@test "run --detach: runs in the background until killed" {
  run rtd run -d -b "$BUNDLE" e2e-detach
  [ "$status" -eq 0 ]
  [ "$(state_field e2e-detach status)" = running ]
  rt kill e2e-detach KILL
  wait_for_status e2e-detach stopped
  rt delete e2e-detach
}

@test "create/start: created -> running -> stopped -> deleted, with --pid-file" {
  rtd create -b "$BUNDLE" --pid-file "$BUNDLE/pid" e2e-life
  [ "$(state_field e2e-life status)" = created ]
  pid=$(state_field e2e-life pid)
  [ "$pid" -gt 0 ]
  [ "$(cat "$BUNDLE/pid")" = "$pid" ]
  kill -0 "$pid"

  rt start e2e-life
  [ "$(state_field e2e-life status)" = running ]
  [ "$(state_field e2e-life pid)" = "$pid" ]

  rt kill e2e-life KILL
  wait_for_status e2e-life stopped
  rt delete e2e-life
  run rt state e2e-life
  assert_runc_error "does not exist"
  wait_for 5 bash -c "! kill -0 $pid 2>/dev/null"
}

@test "state: the runtime-spec fields" {
  update_config '.annotations = {"org.example.e2e": "yes"}'
  rtd create -b "$BUNDLE" e2e-state
  run rt state e2e-state
  [ "$status" -eq 0 ]
  echo "$output" | jq -e '.ociVersion | type == "string"'
  echo "$output" | jq -e '.id == "e2e-state"'
  echo "$output" | jq -e '.status == "created"'
  echo "$output" | jq -e '.pid > 0'
  echo "$output" | jq -e --arg b "$BUNDLE" '.bundle == $b'
  echo "$output" | jq -e '.created | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")'
  echo "$output" | jq -e '.annotations["org.example.e2e"] == "yes"'
  rt delete -f e2e-state
}

@test "pid-file: a relative path is taken from the caller's directory" {
  mkdir -p "$E2E_TMP/cwd-$BATS_TEST_NUMBER"
  (cd "$E2E_TMP/cwd-$BATS_TEST_NUMBER" && rtd create -b "$BUNDLE" --pid-file rel.pid e2e-pidrel)
  [ "$(cat "$E2E_TMP/cwd-$BATS_TEST_NUMBER/rel.pid")" = "$(state_field e2e-pidrel pid)" ]
  rt delete -f e2e-pidrel
  rm -rf "$E2E_TMP/cwd-$BATS_TEST_NUMBER"
}

@test "kill: SIGTERM by default, signals by name, SIG-name and number" {
  # PID 1 ignores SIGTERM until its trap is set: the shell marks that in its
  # rootfs (runc's tests wait for such a marker too) and the kill waits for it.
  set_args sh -c 'trap "exit 3" TERM; touch /trap-set; while :; do sleep 0.1; done'
  rtd run -d -b "$BUNDLE" e2e-kill
  wait_for 60 test -e "$BUNDLE/rootfs/trap-set"
  rt kill e2e-kill
  wait_for_status e2e-kill stopped
  rt delete e2e-kill

  for sig in KILL SIGKILL 9; do
    rtd run -d -b "$BUNDLE" "e2e-kill-$sig"
    rt kill "e2e-kill-$sig" "$sig"
    wait_for_status "e2e-kill-$sig" stopped
    rt delete "e2e-kill-$sig"
  done
}

@test "kill: a stopped container is not running" {
  set_args true
  rtd create -b "$BUNDLE" e2e-killstopped
  rt start e2e-killstopped
  wait_for_status e2e-killstopped stopped
  run rt kill e2e-killstopped KILL
  assert_runc_error "not running"
  rt delete e2e-killstopped
}

@test "delete: a running container needs --force; a created one does not" {
  rtd run -d -b "$BUNDLE" e2e-del
  run rt delete e2e-del
  assert_runc_error "running"
  [ "$(state_field e2e-del status)" = running ]
  rt delete --force e2e-del
  run rt state e2e-del
  assert_runc_error "does not exist"

  rtd create -b "$BUNDLE" e2e-del-created
  rt delete e2e-del-created
  assert_no_state
}

@test "exec: output, exit code, --env, --cwd, and a detached exec with --pid-file" {
  rtd run -d -b "$BUNDLE" e2e-exec
  run rt exec --env FOO=bar --cwd /tmp e2e-exec sh -c 'echo "$FOO $(pwd)"; exit 5'
  [ "$status" -eq 5 ]
  [ "$output" = "bar /tmp" ]

  run rt exec e2e-exec sh -c 'echo "$$"'
  [ "$status" -eq 0 ]
  [ "$output" -gt 1 ]

  rtd exec -d --pid-file "$BUNDLE/exec.pid" e2e-exec sleep 1000
  [ "$(cat "$BUNDLE/exec.pid")" -gt 0 ]
  run rt ps e2e-exec
  [[ $output == *"sleep 1000"* ]]
  rt delete -f e2e-exec
}

@test "exec: a paused or stopped container refuses" {
  rtd run -d -b "$BUNDLE" e2e-execst
  rt pause e2e-execst
  run rt exec e2e-execst true
  assert_runc_error "paused"
  rt resume e2e-execst
  rt kill e2e-execst KILL
  wait_for_status e2e-execst stopped
  run rt exec e2e-execst true
  assert_runc_error "stopped"
  rt delete e2e-execst
}

@test "ps: table and json" {
  rtd run -d -b "$BUNDLE" e2e-ps
  run rt ps e2e-ps
  [ "$status" -eq 0 ]
  [[ ${lines[0]} == *PID* ]]
  [[ $output == *sleep* ]]
  run rt ps --format json e2e-ps
  [ "$status" -eq 0 ]
  echo "$output" | jq -e 'type == "array" and length >= 1 and all(.[]; type == "number")'
  rt delete -f e2e-ps
}

@test "list: table, -q and json" {
  rtd run -d -b "$BUNDLE" e2e-list-a
  rtd create -b "$BUNDLE" e2e-list-b
  run rt list
  [ "$status" -eq 0 ]
  [[ ${lines[0]} == ID*PID*STATUS*BUNDLE*CREATED* ]]
  [[ $output == *e2e-list-a*running* ]]
  [[ $output == *e2e-list-b*created* ]]
  run rt list -q
  [ "$output" = "$(printf 'e2e-list-a\ne2e-list-b')" ]
  run rt list --format json
  echo "$output" | jq -e 'map({(.id): .status}) | add == {"e2e-list-a": "running", "e2e-list-b": "created"}'
  rt delete -f e2e-list-a
  rt delete -f e2e-list-b
}

@test "pause/resume: paused and back to running" {
  rtd run -d -b "$BUNDLE" e2e-pause
  rt pause e2e-pause
  [ "$(state_field e2e-pause status)" = paused ]
  run rt list
  [[ $output == *e2e-pause*paused* ]]
  rt resume e2e-pause
  [ "$(state_field e2e-pause status)" = running ]
  run rt exec e2e-pause echo alive
  [ "$output" = alive ]
  rt delete -f e2e-pause
}

@test "update: memory, cpu and pids limits reach the container's cgroup" {
  # cgroup v1 (this host, runc): memory.limit_in_bytes, cpu.cfs_quota_us/period, pids.max
  # in the container's own cgroup dirs; cgroup v2 (hull's guest): memory.max, cpu.max, pids.max.
  rtd run -d -b "$BUNDLE" e2e-update
  rt update --memory 67108864 --cpu-quota 50000 --cpu-period 100000 --pids-limit 64 e2e-update
  run rt exec e2e-update sh -c "$CGROUP_LIMITS_SH"
  [ "$status" -eq 0 ]
  [[ $output == "mem=67108864 cpu=50000 100000 pids=64" ]]

  # The same through --resources (the JSON shape containerd's shim sends).
  echo '{"memory": {"limit": 33554432}, "pids": {"limit": 32}}' >"$BUNDLE/res.json"
  rt update --resources "$BUNDLE/res.json" e2e-update
  run rt exec e2e-update sh -c "$CGROUP_LIMITS_SH"
  [[ $output == "mem=33554432 "*" pids=32" ]]
  rt delete -f e2e-update
}

@test "events --stats: one JSON stats object" {
  rtd run -d -b "$BUNDLE" e2e-events
  run rt events --stats e2e-events
  [ "$status" -eq 0 ]
  echo "$output" | jq -e '.type == "stats" and .id == "e2e-events" and (.data | type == "object")'
  echo "$output" | jq -e '.data.memory.usage.usage > 0'
  echo "$output" | jq -e '.data.pids.current >= 1'
  rt delete -f e2e-events
}

@test "events: a stream of stats at --interval" {
  rtd run -d -b "$BUNDLE" e2e-evstream
  run timeout 3 "$RUNTIME" --root "$E2E_TMP/root" events --interval 1s e2e-evstream
  [ "$status" -eq 124 ]  # still streaming when timeout stopped it
  [ "${#lines[@]}" -ge 2 ]
  for l in "${lines[@]}"; do echo "$l" | jq -e '.type == "stats" and .id == "e2e-evstream"'; done
  rt delete -f e2e-evstream
}

@test "events: an OOM kill in the container's cgroup is an oom event" {
  update_config '.linux.resources.memory = {"limit": 67108864}'
  rtd run -d -b "$BUNDLE" e2e-oom
  "$RUNTIME" --root "$E2E_TMP/root" events --interval 1s e2e-oom >"$BUNDLE/events" 2>&1 &
  evpid=$!
  wait_for 60 bash -c '[ "$(grep -c stats "$0")" -ge 2 ]' "$BUNDLE/events"  # streaming
  # (100M: more than the limit, less than the VM, whose kernel would refuse the malloc)
  run rt exec e2e-oom dd if=/dev/zero of=/dev/null bs=100M count=1
  [ "$status" -eq 137 ]
  wait_for 30 grep -q '"oom"' "$BUNDLE/events"
  kill "$evpid"
  wait "$evpid" || true
  cat "$BUNDLE/events"
  jq -se 'map(select(.type == "oom")) | length >= 1 and all(.id == "e2e-oom")' "$BUNDLE/events"
  rt delete -f e2e-oom
}

@test "tty: the pty master goes to --console-socket" {
  update_config '.process.terminal = true'
  set_args sh -c "$TTY_CHECK_SH"'; read line; echo "got:$line"; exit 4'
  mkfifo "$BUNDLE/in"
  exec 7<>"$BUNDLE/in"  # recvtty's stdin: open until the line is written
  start_recvtty "$E2E_TMP/tty.sock" "$BUNDLE/in" "$BUNDLE/out"
  # (create/start: runc's `run` in the foreground ignores --console-socket and
  # relays the pty to its own stdio; the exit code is checked in the daemon suites)
  rtd create -b "$BUNDLE" --console-socket "$E2E_TMP/tty.sock" e2e-tty
  rt start e2e-tty
  echo ping >&7
  wait_for_status e2e-tty stopped 60
  exec 7>&-
  wait "$RECVTTY_PID"
  RECVTTY_PID=
  run cat "$BUNDLE/out"
  [[ $output == *"term-ok-42"* ]]
  [[ $output == *"got:ping"* ]]
  [ ! -e "$E2E_TMP/tty.sock" ]
  rt delete e2e-tty
}

@test "tty: the terminal is a /dev/pts/N of the container's devpts" {
  update_config '.process.terminal = true'
  set_args sh -c 'tty; exit 0'
  mkfifo "$BUNDLE/in"
  exec 7<>"$BUNDLE/in"
  start_recvtty "$E2E_TMP/tty.sock" "$BUNDLE/in" "$BUNDLE/out"
  rtd create -b "$BUNDLE" --console-socket "$E2E_TMP/tty.sock" e2e-ttyname
  rt start e2e-ttyname
  wait_for_status e2e-ttyname stopped 60
  exec 7>&-
  wait "$RECVTTY_PID"
  RECVTTY_PID=
  run cat "$BUNDLE/out"
  [[ $output == *"/dev/pts/"* ]]
  rt delete e2e-ttyname
}

@test "tty: terminal without --console-socket is refused when detached" {
  update_config '.process.terminal = true'
  run rtd create -b "$BUNDLE" e2e-notty
  assert_runc_error "console socket"
  assert_no_state
}

# Runs `RUNTIME --root ROOT ARGS...` in the foreground on a pty made by
# script(1), sized 30x100. Once the container's process has made /ready in
# the rootfs, the pty is resized to 40x120 and, 2 s later, the line "ping" is
# typed; the input stays open until the command has returned. Prints the
# session; the pty's mode before and after goes to $BUNDLE/stty.before/after.
foreground_tty() {
  local cmd wait_resize
  wait_resize="i=0; while [ ! -f $BUNDLE/resize ] && [ \$i -lt 1200 ]; do sleep 0.1; i=\$((i+1)); done"
  cmd="stty rows 30 cols 100; stty -g >$BUNDLE/stty.before
    ($wait_resize; stty rows 40 cols 120 </dev/tty) &
    $RUNTIME --root $E2E_TMP/root $*; rc=\$?; stty -g >$BUNDLE/stty.after; exit \$rc"
  (
    i=0
    while [ ! -f "$BUNDLE/rootfs/ready" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
    touch "$BUNDLE/resize"
    sleep 2
    echo ping
    i=0
    while [ ! -f "$BUNDLE/stty.after" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
  ) | timeout 150 script -qec "$cmd" /dev/null
}

# shellcheck disable=SC2016
FG_TTY_SH='stty size; touch /ready; read line; stty size; echo "got:$line"'

@test "tty: run in the foreground relays a console of its own to its terminal" {
  update_config '.process.terminal = true'
  set_args sh -c "$TTY_CHECK_SH; $FG_TTY_SH; exit 4"
  run foreground_tty run -b "$BUNDLE" e2e-fgtty
  echo "$output"
  [ "$status" -eq 4 ]
  [[ $output == *"term-ok-42"* ]]
  [[ $output == *"30 100"*"40 120"* ]]  # its size, then the new size
  [[ $output == *"got:ping"* ]]
  [ "$(cat "$BUNDLE/stty.before")" = "$(cat "$BUNDLE/stty.after")" ]  # mode restored
  assert_no_state
}

@test "tty: exec -t in the foreground relays a console of its own to its terminal" {
  rtd run -d -b "$BUNDLE" e2e-fgexec
  run foreground_tty exec -t e2e-fgexec sh -c "'$TTY_CHECK_SH; $FG_TTY_SH; exit 5'"
  echo "$output"
  [ "$status" -eq 5 ]
  [[ $output == *"term-ok-42"* ]]
  [[ $output == *"30 100"*"40 120"* ]]
  [[ $output == *"got:ping"* ]]
  [ "$(cat "$BUNDLE/stty.before")" = "$(cat "$BUNDLE/stty.after")" ]
  rt delete -f e2e-fgexec
}

# Runs `RUNTIME --root ROOT ARGS...` in the foreground on a pty made by
# script(1) and, 1 s after the container's process has made /ready in the
# rootfs, types Ctrl-C. The terminal drains slowly (4 KiB at a time, 10 ms
# apart) and its output is discarded. The command's exit status goes to
# $BUNDLE/rc; returns timeout(1)'s status.
foreground_ctrl_c() {
  local cmd="$RUNTIME --root $E2E_TMP/root $*; echo \$? >$BUNDLE/rc"
  (
    i=0
    while [ ! -f "$BUNDLE/rootfs/ready" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
    sleep 1
    printf '\003'
    i=0
    while [ ! -f "$BUNDLE/rc" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
  ) | timeout 150 script -qec "$cmd" /dev/null |
    while [ "$(head -c 4096 | wc -c)" -gt 0 ]; do sleep 0.01; done
  return "${PIPESTATUS[1]}"
}

@test "tty: run in the foreground of a process that floods the terminal ends on a typed Ctrl-C" {
  update_config '.process.terminal = true'
  set_args sh -c "touch /ready; yes"
  run foreground_ctrl_c run -b "$BUNDLE" e2e-fgyes
  [ "$status" -eq 0 ]  # not timed out
  [ "$(cat "$BUNDLE/rc")" -eq 130 ]  # its process was killed by the SIGINT
  assert_no_state
}

@test "tty: --console-socket in the foreground is refused" {
  update_config '.process.terminal = true'
  run rtd run -b "$BUNDLE" --console-socket "$E2E_TMP/none.sock" e2e-fgsock
  assert_runc_error "console socket"
  assert_no_state
}

@test "hooks: every kind runs with the state on stdin, in lifecycle order" {
  hooks=$BUNDLE/hooks
  mkdir -p "$hooks"
  # startContainer runs in the container (busybox's /bin/sh): the hook dir is
  # mounted there at the same path, so every kind writes to the same place.
  update_config '.mounts += [{"destination": $h, "type": "bind", "source": $h, "options": ["rbind", "rw"]}]
    | .annotations = {"org.example.hook": "1"}
    | .hooks = (reduce ("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop") as $k
        ({}; .[$k] = [{"path": "/bin/sh",
                       "args": ["sh", "-c", "cat > \($h)/\($k).json; echo \($k) >> \($h)/order"],
                       "timeout": 10}]))' --arg h "$hooks"

  rtd create -b "$BUNDLE" e2e-hooks
  # create: prestart, createRuntime, createContainer, in that order; no startContainer yet.
  [ "$(grep -E 'prestart|createRuntime|createContainer' "$hooks/order" | tr '\n' ' ')" = \
    "prestart createRuntime createContainer " ]
  ! grep -q startContainer "$hooks/order"

  rt start e2e-hooks
  grep -q startContainer "$hooks/order"
  grep -q poststart "$hooks/order"
  ! grep -q poststop "$hooks/order"

  rt delete -f e2e-hooks
  [ "$(tail -1 "$hooks/order")" = poststop ]

  for k in prestart createRuntime createContainer startContainer poststart poststop; do
    jq -e --arg b "$BUNDLE" '.id == "e2e-hooks" and .bundle == $b and (.ociVersion | type == "string")
      and .annotations["org.example.hook"] == "1"' "$hooks/$k.json"
  done
  jq -e '.status == "creating" and .pid > 0' "$hooks/prestart.json"
  jq -e '.status == "creating" and .pid > 0' "$hooks/createRuntime.json"
  jq -e '.status == "creating"' "$hooks/createContainer.json"
  jq -e '.status == "created"' "$hooks/startContainer.json"
  jq -e '.status == "stopped"' "$hooks/poststop.json"
}

@test "hooks: a createContainer hook's mount below the rootfs shows in the container, and goes with it" {
  # runc's example: the hook starts in the rootfs, in the container's mount
  # namespace (hull: the rootfs the VM sees, whose mounts reach the guest).
  echo host-file-42 >"$BUNDLE/hostfile"
  set_args cat /lib/x
  update_config '.hooks.createContainer = [{"path": "/bin/sh",
    "args": ["sh", "-c", "mkdir -p ./lib && touch ./lib/x && mount --bind \($f) ./lib/x"]}]' \
    --arg f "$BUNDLE/hostfile"
  run rt run -b "$BUNDLE" e2e-ccmount
  [ "$status" -eq 0 ] || { echo "$output" >&2; false; }
  [[ $output == *host-file-42* ]]
  assert_no_state
  # the mount was the container's: nothing of it is left on the host
  [ ! -s "$BUNDLE/rootfs/lib/x" ]
  ! grep -F "$BUNDLE" /proc/self/mountinfo
}

@test "hooks: a startContainer hook runs inside the container, before its process" {
  # The path is the container's /bin/sh (busybox), / is the container's rootfs
  # and the hostname the container's.
  set_args cat /hook-was-here
  update_config '.hooks.startContainer = [{"path": "/bin/sh",
    "args": ["sh", "-c", "echo \"hook in $(hostname)\" >/hook-was-here"]}]'
  run rt run -b "$BUNDLE" e2e-startin
  [ "$status" -eq 0 ] || { echo "$output" >&2; false; }
  [[ $output == *"hook in e2e"* ]]
  [ "$(cat "$BUNDLE/rootfs/hook-was-here")" = "hook in e2e" ]
  [ ! -e /hook-was-here ]
  assert_no_state
}

@test "hooks: a startContainer hook runs under the container's seccomp filter" {
  set_args echo the-process-ran
  update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
      "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL"}]}
    | .hooks.startContainer = [{"path": "/bin/mkdir", "args": ["mkdir", "/forbidden"]}]'
  run rt run -b "$BUNDLE" e2e-startseccomp
  [ "$status" -ne 0 ]
  [[ $output == *"hook #0"* ]] || { echo "$output" >&2; false; }
  [[ ${output,,} == *"bad system call"* ]]
  [[ $output != *the-process-ran* ]]
  [ ! -e "$BUNDLE/rootfs/forbidden" ]
  assert_no_state
}

@test "hooks: a failing createRuntime hook fails create and leaves nothing" {
  update_config '.hooks.createRuntime = [{"path": "/bin/sh", "args": ["sh", "-c", "echo hook-said-no >&2; exit 2"]}]'
  run rtd create -b "$BUNDLE" e2e-hookfail
  [ "$status" -ne 0 ]
  [[ $output == *level=error* ]]
  assert_no_state
}

@test "create killed midway: delete leaves nothing" {
  rt create -b "$BUNDLE" e2e-killcreate </dev/null >/dev/null 2>&1 &
  local pid=$!
  # hull: its VM is booting (the shared dir is made right before QEMU starts);
  # runc: create is done (it is that quick).
  wait_for 20 sh -c "[ -d '$E2E_TMP/root/sandboxes/e2e-killcreate/shared' ] || $RUNTIME --root '$E2E_TMP/root' state e2e-killcreate 2>/dev/null | grep -q '\"created\"'"
  kill -KILL "$pid" 2>/dev/null || true  # runc: already done
  wait "$pid" || true
  run rt delete -f e2e-killcreate
  [ "$status" -eq 0 ] || { echo "$output" >&2; false; }
  assert_no_state
  [ -z "$(cgroups_left)" ] || { echo "cgroups left: $(cgroups_left)" >&2; false; }
}

@test "hooks: a hook past its timeout fails create" {
  update_config '.hooks.prestart = [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]'
  SECONDS=0
  run rtd create -b "$BUNDLE" e2e-hooktimeout
  [ "$status" -ne 0 ]
  [ "$SECONDS" -lt 15 ]
  assert_no_state
}

@test "hooks: a failing poststop hook does not fail delete" {
  update_config '.hooks.poststop = [{"path": "/bin/false"}]'
  rtd create -b "$BUNDLE" e2e-poststopfail
  rt delete -f e2e-poststopfail
  assert_no_state
}

@test "bad input: missing bundle" {
  run rtd create -b "$E2E_TMP/no-such-bundle" e2e-nobundle
  assert_runc_error "no such file or directory"
  assert_no_state
}

@test "bad input: bundle without config.json" {
  rm "$BUNDLE/config.json"
  run rtd create -b "$BUNDLE" e2e-noconfig
  assert_runc_error "config.json"
  assert_no_state
}

@test "bad input: config.json that is not JSON" {
  echo '{"ociVersion": "1.0.2", broken' >"$BUNDLE/config.json"
  run rtd create -b "$BUNDLE" e2e-badjson
  [ "$status" -eq 1 ]
  assert_runc_error ""
  assert_no_state
}

@test "bad input: config.json without process args" {
  update_config 'del(.process.args)'
  run rt run -b "$BUNDLE" e2e-noargs
  [ "$status" -ne 0 ]
  assert_runc_error "args"
  assert_no_state
}

@test "bad input: duplicate id leaves the first container alone" {
  rtd create -b "$BUNDLE" e2e-dup
  run rtd create -b "$BUNDLE" e2e-dup
  [ "$status" -eq 1 ]
  assert_runc_error "exists"
  [ "$(state_field e2e-dup status)" = created ]
  [ "$(rt list -q)" = e2e-dup ]
  rt delete e2e-dup
}

@test "bad input: invalid container ids" {
  for id in 'a/b' '..' 'bad id'; do
    run rtd create -b "$BUNDLE" "$id"
    [ "$status" -eq 1 ]
    assert_runc_error "[Ii]nvalid"
  done
  assert_no_state
}

@test "bad input: unknown container for every command" {
  for cmd in state start delete pause resume ps events; do
    run rt "$cmd" e2e-nonexistent
    [ "$status" -eq 1 ] || { echo "$cmd: status $status" >&2; false; }
    assert_runc_error "does not exist"
  done
  run rt kill e2e-nonexistent KILL
  assert_runc_error "does not exist"
  run rt exec e2e-nonexistent true
  [ "$status" -ne 0 ]
  assert_runc_error "does not exist"
  run rt update --memory 1048576 e2e-nonexistent
  assert_runc_error "does not exist"
  assert_no_state
}

@test "bad input: unknown signal leaves the container running" {
  rtd run -d -b "$BUNDLE" e2e-badsig
  for sig in FOO SIGFOO; do
    run rt kill e2e-badsig "$sig"
    [ "$status" -eq 1 ]
    assert_runc_error "signal"
  done
  [ "$(state_field e2e-badsig status)" = running ]
  rt delete -f e2e-badsig
}

@test "bad input: start of a stopped container" {
  set_args true
  rtd create -b "$BUNDLE" e2e-restart
  rt start e2e-restart
  wait_for_status e2e-restart stopped
  run rt start e2e-restart
  assert_runc_error "stopped"
  rt delete e2e-restart
}

@test "after the suite: no process, mount, cgroup or state of any container" {
  assert_no_state
  assert_nothing_left_under "$E2E_TMP"
  [ -z "$(cgroups_left)" ] || { echo "cgroups left: $(cgroups_left)" >&2; false; }
}
