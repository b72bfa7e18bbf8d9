#!/usr/bin/env bats
# The runtime binary, as runc's own integration tests drive it (lib/cli.bash):
# exec, ps, and terminals (--console-socket, foreground ttys).
#
#   HULL_E2E_RUNTIME=/usr/sbin/runc bats tests/e2e/cli-exec.bats   (the reference)
#   bats tests/e2e/cli-exec.bats                                   (the built hull)

# Single-quoted programs (sh -c, jq) expand in the container or in jq:
# shellcheck disable=SC2016
bats_require_minimum_version 1.5.0
load lib/common
load lib/cli  # also the setup/teardown hooks

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

@test "exec --cgroup: runs the process in an existing sub-cgroup; a missing one fails" {
  [ "$RUNTIME_NAME" != runc ] || skip "runc on a cgroup v1 host needs the sub-cgroup in every hierarchy"
  # the container makes its sub-cgroup: its /sys/fs/cgroup writable
  update_config '(.mounts[] | select(.destination == "/sys/fs/cgroup") | .options) -= ["ro"]'
  rtd run -d -b "$BUNDLE" e2e-execcg
  rt exec e2e-execcg mkdir /sys/fs/cgroup/sub
  run rt exec --cgroup sub e2e-execcg cat /proc/self/cgroup
  [ "$status" -eq 0 ]
  [ "$output" = "0::/sub" ]
  run rt exec --cgroup cpu,memory:sub --cgroup pids:/sub e2e-execcg cat /proc/self/cgroup
  [ "$output" = "0::/sub" ]
  run rt exec e2e-execcg cat /proc/self/cgroup
  [ "$output" = "0::/" ]
  run rt exec --cgroup missing e2e-execcg true
  [ "$status" -ne 0 ]
  assert_runc_error "missing.*No such file or directory"
  run rt exec --cgroup ../up e2e-execcg true
  assert_runc_error "bad sub cgroup path: ../up"
  run rt exec --cgroup cpu:sub --cgroup memory:other e2e-execcg true
  assert_runc_error "same sub-cgroup"
  rt delete -f e2e-execcg
}

@test "exec --ignore-paused: waits for resume instead of refusing" {
  rtd run -d -b "$BUNDLE" e2e-execip
  rt pause e2e-execip
  (rt exec --ignore-paused e2e-execip sh -c 'echo ran-42' </dev/null >"$BUNDLE/exec.out" 2>&1
    echo "rc=$?" >>"$BUNDLE/exec.out") &
  execpid=$!
  sleep 3
  kill -0 "$execpid"  # still waiting
  [ ! -s "$BUNDLE/exec.out" ]
  rt resume e2e-execip
  wait "$execpid"
  [ "$(cat "$BUNDLE/exec.out")" = "$(printf 'ran-42\nrc=0')" ]
  rt delete -f e2e-execip
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

@test "ps: ps(1) options after the id" {
  rtd run -d -b "$BUNDLE" e2e-psopt
  run rt ps e2e-psopt -o pid,comm
  [ "$status" -eq 0 ]
  [ "$(echo "${lines[0]}" | xargs)" = "PID COMMAND" ]
  [[ $output == *" sleep"* ]]
  run rt ps e2e-psopt -e -x
  [ "$status" -eq 0 ]
  [ "$(echo "${lines[0]}" | xargs)" = "PID TTY STAT TIME COMMAND" ]
  [[ $output == *"sleep 1000"* ]]
  run rt ps e2e-psopt -ef
  [ "$(echo "${lines[0]}" | xargs)" = "UID PID PPID C STIME TTY TIME CMD" ]
  [[ ${lines[1]} == root\ * ]]
  run rt ps e2e-psopt aux
  [ "$(echo "${lines[0]}" | xargs)" = "USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND" ]
  rt delete -f e2e-psopt
}

@test "ps: ps(1)'s thread views of a multi-threaded process (-eLf, -T, H)" {
  local helper=$HULL_BUILD_DIR/tests/hull-e2e-threads
  [ -x "$helper" ] || skip "hull-e2e-threads is not built ($helper)"
  cp "$helper" "$BUNDLE/rootfs/bin/hull-e2e-threads"
  set_args /bin/hull-e2e-threads 2
  rtd run -d -b "$BUNDLE" e2e-psthreads
  local i
  for ((i = 0; i < 50; i++)); do  # the threads start right after exec
    [ "$(rt ps e2e-psthreads -o pid,nlwp | awk 'NR == 2 {print $2}')" = 3 ] && break
    sleep 0.2
  done
  run rt ps e2e-psthreads -eLf
  [ "$status" -eq 0 ]
  [ "$(echo "${lines[0]}" | xargs)" = "UID PID PPID LWP C NLWP STIME TTY TIME CMD" ]
  # one line per thread: one pid, three LWPs (the first the pid), NLWP 3 on each
  echo "$output" | awk '/hull-e2e-threads 2$/ {n++; pid[$2]; lwp[$4]; if ($6 != 3) bad++}
    END {exit !(n == 3 && length(pid) == 1 && length(lwp) == 3 && !bad)}'
  echo "$output" | awk '/hull-e2e-threads 2$/ && $2 == $4 {main++} END {exit main != 1}'
  run rt ps e2e-psthreads -T
  [ "$(echo "${lines[0]}" | xargs)" = "PID SPID TTY TIME CMD" ]
  [ "$(echo "$output" | grep -c 'hull-e2e-thread$')" -eq 3 ]
  run rt ps e2e-psthreads axH -o pid,tid,stat,comm
  [ "$(echo "$output" | awk '$4 == "hull-e2e-thread" && $3 ~ /l/' | wc -l)" -eq 3 ]
  rt delete -f e2e-psthreads
}

@test "ps: the process tree (--forest, f, -H)" {
  set_args sh -c 'sleep 1000 & sleep 1001 & wait'
  rtd run -d -b "$BUNDLE" e2e-pstree
  local i
  for ((i = 0; i < 50; i++)); do
    [ "$(rt ps e2e-pstree -o pid,args | grep -c 'sleep 100[01]$')" -eq 2 ] && break
    sleep 0.2
  done
  run rt ps e2e-pstree -o pid,args --forest
  [ "$status" -eq 0 ]
  [[ $output == *'\_ sleep 1000'* ]]
  [[ $output == *'\_ sleep 1001'* ]]
  run rt ps e2e-pstree axf
  [ "$(echo "${lines[0]}" | xargs)" = "PID TTY STAT TIME COMMAND" ]
  [[ $output == *'\_ sleep 1000'* ]]
  # -H indents each child two columns past its parent
  run rt ps e2e-pstree -e -H -o pid,comm
  local sh_at sleep_at
  sh_at=$(echo "$output" | sed -nE 's/^ *[0-9]+ ( *)sh$/\1/p' | awk '{print length}')
  sleep_at=$(echo "$output" | sed -nE 's/^ *[0-9]+ ( *)sleep$/\1/p' | awk '{print length}' | sort -u)
  [ -n "$sh_at" ] && [ "$sleep_at" = "$((sh_at + 2))" ]
  rt delete -f e2e-pstree
}

@test "ps: the environment (e) and --sort" {
  set_args sh -c 'sleep 1000 & sleep 1001 & wait'
  rtd run -d -b "$BUNDLE" e2e-psenv
  local i
  for ((i = 0; i < 50; i++)); do
    [ "$(rt ps e2e-psenv -o pid,args | grep -c 'sleep 100[01]$')" -eq 2 ] && break
    sleep 0.2
  done
  run rt ps e2e-psenv axe -o pid,args
  [ "$status" -eq 0 ]
  [[ $output == *"sleep 1000 "*"TERM=xterm"* ]]
  run rt ps e2e-psenv -e --sort=-pid -o pid
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 4 ]  # the header, sh and two sleeps
  [ "$(printf '%s\n' "${lines[@]:1}" | xargs)" = "$(printf '%s\n' "${lines[@]:1}" | sort -rn | xargs)" ]
  run rt ps e2e-psenv -e --sort=args -o args
  [ "$(echo "${lines[1]}" | xargs)" = "sh -c sleep 1000 & sleep 1001 & wait" ]
  [ "$(echo "${lines[3]}" | xargs)" = "sleep 1001" ]
  rt delete -f e2e-psenv
}

@test "ps: user names are the image's (-o user, -u NAME)" {
  update_config '.process.user = {"uid": 65534, "gid": 65534}'
  rtd run -d -b "$BUNDLE" e2e-psuser
  run rt ps e2e-psuser -e -o user,group,args
  [ "$status" -eq 0 ]
  [ "$(echo "${lines[1]}" | xargs)" = "nobody nogroup sleep 1000" ]
  run rt ps e2e-psuser -u nobody -o pid,ruser,args
  [ "${#lines[@]}" -eq 2 ]
  [[ ${lines[1]} == *" nobody   sleep 1000" ]]
  run rt ps e2e-psuser -u root -o pid,args
  [ "${#lines[@]}" -eq 1 ]  # the header only
  rt delete -f e2e-psuser
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
  wait_recvtty
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
  wait_recvtty
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
