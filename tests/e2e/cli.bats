#!/usr/bin/env bats
# runc-style CLI lifecycle tests of one runtime binary, in the manner of runc's
# own bats integration tests: run, create/start, state transitions, kill,
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

# The single-quoted sh -c, bash -c and jq programs in this file expand in the
# container, in the child shell or in jq, not here:
# shellcheck disable=SC2016
bats_require_minimum_version 1.5.0
load lib/common
load lib/cli

setup_file() {
  e2e_setup_file
  touch "$E2E_TMP/began"
}
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

@test "kill: signal 0 probes whether the container runs" {
  rtd run -d -b "$BUNDLE" e2e-kill0
  rt kill e2e-kill0 0
  rt kill -a e2e-kill0 0
  [ "$(state_field e2e-kill0 status)" = running ]  # nothing was sent
  rt kill e2e-kill0 KILL
  wait_for_status e2e-kill0 stopped
  run rt kill e2e-kill0 0
  assert_runc_error "not running"
  rt delete e2e-kill0
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

@test "list --format json and state: runc's key order" {
  update_config '.annotations = {"org.example.e2e": "yes"}'
  rtd run -d -b "$BUNDLE" e2e-listjson
  run rt list --format json
  [ "$status" -eq 0 ]
  [ "${output:0:2}" = '[{' ]  # one line, an array of objects
  echo "$output" | jq -e 'length == 1 and (.[0] | keys_unsorted == ["ociVersion", "id", "pid",
    "status", "bundle", "rootfs", "created", "annotations", "owner"])'
  echo "$output" | jq -e --arg b "$BUNDLE" '.[0] | .id == "e2e-listjson" and .status == "running"
    and .pid > 0 and .bundle == $b and .rootfs == $b + "/rootfs" and .owner == "root"'
  run rt state e2e-listjson
  echo "$output" | jq -e 'keys_unsorted == ["ociVersion", "id", "pid", "status", "bundle",
    "rootfs", "created", "annotations", "owner"]'
  rt delete -f e2e-listjson
  run rt list --format json
  [ "$output" = null ]
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

# Shell code: for each "r PATH" or "w PATH" argument, opens PATH for reading or
# writing and prints "r PATH: ok" or the error (busybox's words with strerror).
# shellcheck disable=SC2016
DEVICE_ACCESS_SH='
for t in "$@"; do
  set -- $t
  if [ "$1" = r ]; then out=$(head -c1 "$2" 2>&1 >/dev/null); else out=$(printf x 2>&1 >"$2"); fi
  echo "$t: ${out:-ok}"
done'

# Two device nodes no driver answers: an open the device rules allow fails
# with ENXIO ("No such device or address"), one they deny with EPERM.
devices_42() {
  update_config '.linux.devices = [
      {"path": "/dev/e2e-c", "type": "c", "major": 42, "minor": 42, "fileMode": 438},
      {"path": "/dev/e2e-b", "type": "b", "major": 42, "minor": 42, "fileMode": 438}]'
}

@test "devices: an allow list grants char and block devices access by access" {
  devices_42
  update_config '.linux.resources.devices = [{"allow": false, "access": "rwm"},
      {"allow": true, "type": "c", "major": 42, "minor": 42, "access": "r"}]'
  set_args sh -c "$DEVICE_ACCESS_SH" sh "r /dev/e2e-c" "w /dev/e2e-c" "r /dev/e2e-b" \
    "w /dev/e2e-b" "w /dev/null" "r /dev/zero" "r /dev/urandom" "r /dev/full"
  run rt run -b "$BUNDLE" e2e-dev-allow
  [ "$status" -eq 0 ]
  [[ $output == *"r /dev/e2e-c: head: /dev/e2e-c: No such device or address"* ]]
  [[ $output == *"w /dev/e2e-c: sh: line 3: can't create /dev/e2e-c: Operation not permitted"* ]]
  [[ $output == *"r /dev/e2e-b: head: /dev/e2e-b: Operation not permitted"* ]]
  [[ $output == *"w /dev/e2e-b: sh: line 3: can't create /dev/e2e-b: Operation not permitted"* ]]
  # runc's default devices stay usable under a deny-all list.
  [[ $output == *"w /dev/null: ok"* ]]
  [[ $output == *"r /dev/zero: ok"* ]]
  [[ $output == *"r /dev/urandom: ok"* ]]
  [[ $output == *"r /dev/full: ok"* ]]
}

@test "devices: a deny rule after allow-all takes one access away" {
  devices_42
  update_config '.linux.resources.devices = [{"allow": true, "access": "rwm"},
      {"allow": false, "type": "b", "major": 42, "minor": 42, "access": "w"}]'
  set_args sh -c "$DEVICE_ACCESS_SH" sh "r /dev/e2e-c" "w /dev/e2e-c" "r /dev/e2e-b" "w /dev/e2e-b"
  run rt run -b "$BUNDLE" e2e-dev-deny
  [ "$status" -eq 0 ]
  [[ $output == *"r /dev/e2e-c: head: /dev/e2e-c: No such device or address"* ]]
  [[ $output == *"w /dev/e2e-c: sh: line 3: can't create /dev/e2e-c: No such device or address"* ]]
  [[ $output == *"r /dev/e2e-b: head: /dev/e2e-b: No such device or address"* ]]
  [[ $output == *"w /dev/e2e-b: sh: line 3: can't create /dev/e2e-b: Operation not permitted"* ]]
}

@test "devices: a device in linux.devices without a rule for it is denied" {
  devices_42
  set_args sh -c "$DEVICE_ACCESS_SH" sh "r /dev/e2e-c" "r /dev/e2e-b"
  run rt run -b "$BUNDLE" e2e-dev-none
  [ "$status" -eq 0 ]
  [[ $output == *"r /dev/e2e-c: head: /dev/e2e-c: Operation not permitted"* ]]
  [[ $output == *"r /dev/e2e-b: head: /dev/e2e-b: Operation not permitted"* ]]
}

@test "seccomp: a syscall newer than the profile gets ENOSYS, an unlisted older one the default errno" {
  [ "$(uname -m)" = x86_64 ] || skip "syscall numbers of x86_64"
  local helper=$HULL_BUILD_DIR/tests/hull-e2e-syscall
  [ -x "$helper" ] || skip "hull-e2e-syscall is not built ($helper)"
  cp "$helper" "$BUNDLE/rootfs/bin/hull-e2e-syscall"
  # docker's default profile (defaultErrnoRet EPERM, syscalls up to the 450s)
  # without getppid (110); 1000 is above every syscall it names.
  update_config '.linux.seccomp = ($p[0] | .syscalls |= map(.names -= ["getppid"]))' \
    --slurpfile p "$E2E_TOP/tests/data/seccomp/docker-default.json"
  set_args /bin/hull-e2e-syscall 110 1000 39
  run rt run -b "$BUNDLE" e2e-enosys
  [ "$status" -eq 0 ]
  [[ $output == *"110: Operation not permitted"* ]]
  [[ $output == *"1000: Function not implemented"* ]]
  [[ $output == *"39: ok"* ]]  # getpid, listed
}

@test "seccomp: SCMP_ACT_NOTIFY with a listenerPath fails create, names the rule and leaves nothing" {
  update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
      "listenerPath": $l, "listenerMetadata": "e2e",
      "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"},
                   {"names": ["chmod"], "action": "SCMP_ACT_NOTIFY"}]}' \
    --arg l "$BUNDLE/seccomp-agent.sock"
  run rtd run -d -b "$BUNDLE" e2e-notify
  [ "$status" -ne 0 ]
  if [ "$RUNTIME_NAME" = hull ]; then
    assert_runc_error 'linux.seccomp.syscalls\[1\].action: SCMP_ACT_NOTIFY is not supported'
  fi
  assert_no_state
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

@test "events --stats: runc's keys, in runc's order" {
  rtd run -d -b "$BUNDLE" e2e-evkeys
  run rt events --stats e2e-evkeys
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 1 ]
  echo "$output" | jq -e 'keys_unsorted == ["type", "id", "data"]'
  echo "$output" | jq -e '.data | keys_unsorted == ["cpu", "cpuset", "memory", "pids", "blkio",
    "hugetlb", "intel_rdt", "network_interfaces"]'
  echo "$output" | jq -e '.data.cpu.usage.total > 0 and (.data.cpu.usage | has("kernel") and has("user"))'
  echo "$output" | jq -e '.data.cpu | has("throttling")'
  echo "$output" | jq -e '.data.memory.usage | has("limit") and has("failcnt")'
  echo "$output" | jq -e '.data.memory | has("swap") and has("kernel") and has("kernelTCP")'
  echo "$output" | jq -e '.data.memory.raw | type == "object" and length > 0'
  echo "$output" | jq -e '.data.network_interfaces == null'
  rt delete -f e2e-evkeys
}

@test "events --interval: the first stats line at once" {
  [ "$RUNTIME_NAME" != runc ] || skip "runc 1.1 prints its first line after one interval"
  rtd run -d -b "$BUNDLE" e2e-evfirst
  run timeout 20 "$RUNTIME" --root "$E2E_TMP/root" events --interval 300s e2e-evfirst
  [ "$status" -eq 124 ]
  [ "${#lines[@]}" -eq 1 ]
  echo "${lines[0]}" | jq -e '.type == "stats" and .id == "e2e-evfirst"'
  rt delete -f e2e-evfirst
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
  run ! grep -q startContainer "$hooks/order"

  rt start e2e-hooks
  grep -q startContainer "$hooks/order"
  grep -q poststart "$hooks/order"
  run ! grep -q poststop "$hooks/order"

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
  run ! grep -F "$BUNDLE" /proc/self/mountinfo
}

@test "hooks: a createContainer hook writes into a read-only rootfs, which the container then sees read-only" {
  # runc runs createContainer hooks before it makes the rootfs read-only.
  update_config '.root.readonly = true'
  update_config '.hooks.createContainer = [{"path": "/bin/sh",
    "args": ["sh", "-c", "echo from-hook-42 >./hook-was-here"]}]'
  set_args sh -c 'cat /hook-was-here; if echo x >/hook-was-here; then echo writable; else echo read-only; fi'
  run rt run -b "$BUNDLE" e2e-ccro
  [ "$status" -eq 0 ] || { echo "$output" >&2; false; }
  [[ $output == *from-hook-42* ]]
  [[ $output == *read-only* ]]
  [ "$(cat "$BUNDLE/rootfs/hook-was-here")" = from-hook-42 ]
  assert_no_state
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
  [ -z "$(cgroups_left e2e-killcreate)" ] || { echo "cgroups left: $(cgroups_left e2e-killcreate)" >&2; false; }
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

@test "spec: a cgroup namespace only on a cgroup v2 unified host, and a container runs without one" {
  mkdir "$BUNDLE/spec"
  (cd "$BUNDLE/spec" && rt spec)
  has_ns=$(jq '[.linux.namespaces[] | select(.type == "cgroup")] | length' "$BUNDLE/spec/config.json")
  if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
    [ "$has_ns" -eq 1 ]
  else
    [ "$has_ns" -eq 0 ]
  fi
  # The test bundle has no cgroup namespace (a v1 host's runc spec): the
  # container still sees its own limits at /sys/fs/cgroup.
  jq -e '[.linux.namespaces[] | select(.type == "cgroup")] | length == 0' "$BUNDLE/config.json"
  update_config '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 99}'
  set_args sh -c "$CGROUP_LIMITS_SH"
  run rt run -b "$BUNDLE" e2e-nocgns
  [ "$status" -eq 0 ]
  [[ $output == "mem=67108864 cpu="*" pids=99" ]]
}

@test "--debug: the steps as level=debug lines on stderr and in --log, text and json" {
  run rtd --debug create -b "$BUNDLE" e2e-debug
  [ "$status" -eq 0 ]
  [[ $output == *'level=debug msg="'* ]]
  rt delete -f e2e-debug

  rt --debug --log "$BUNDLE/log.txt" create -b "$BUNDLE" e2e-debug </dev/null
  grep -Eq '^time="[^"]+" level=debug msg=".+"$' "$BUNDLE/log.txt"
  rt delete -f e2e-debug

  rt --debug --log "$BUNDLE/log.json" --log-format json run -d -b "$BUNDLE" e2e-debug </dev/null
  jq -se 'all(.[]; (.time | type == "string") and (.msg | type == "string"))' "$BUNDLE/log.json"
  jq -se 'map(select(.level == "debug")) | length >= 1' "$BUNDLE/log.json"
  head -1 "$BUNDLE/log.json" | grep -q '^{"level":"debug","msg":"'
  rt delete -f e2e-debug
}

@test "help: runc's layout for the program and every command; an unknown command fails" {
  run rt --help
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "NAME:" ]
  [[ $output == *$'\nUSAGE:\n   '"$RUNTIME_NAME"$' [global options] command [command options] [arguments...]\n'* ]]
  [[ $output == *$'\nCOMMANDS:\n'* ]]
  [[ $output == *$'\n   help, h '* ]]
  [[ $output == *$'\nGLOBAL OPTIONS:\n'* ]]
  for cmd in create delete events exec kill list pause ps resume run spec start state update features; do
    for how in "$cmd --help" "$cmd -h" "help $cmd"; do
      # shellcheck disable=SC2086
      run rt $how
      [ "$status" -eq 0 ] || { echo "$how: status $status" >&2; false; }
      [ "${lines[0]}" = "NAME:" ] || { echo "$how: $output" >&2; false; }
      [[ ${lines[1]} == "   $RUNTIME_NAME $cmd - "* ]] || { echo "$how: $output" >&2; false; }
      [[ $output == *$'\nUSAGE:\n   '"$RUNTIME_NAME $cmd"* ]] || { echo "$how: $output" >&2; false; }
    done
  done
  run rt kill --help
  [[ $output == *$'\nOPTIONS:\n   --all, -a '* ]]
  run rt no-such-command -h
  [ "$status" -ne 0 ]
  [[ $output == *"No help topic for 'no-such-command'"* ]]
  run rt help no-such-command
  [ "$status" -ne 0 ]
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

@test "id: runc's charset, '+' and ',' included, works end to end" {
  for id in 'e2e-a+b' 'e2e-a,b'; do
    rtd run -d -b "$BUNDLE" "$id"
    [ "$(state_field "$id" status)" = running ]
    run rt exec "$id" echo "in $id"
    [ "$status" -eq 0 ]
    [ "$output" = "in $id" ]
    rt delete -f "$id"
  done
  assert_no_state
}

@test "update: --cpu-period alone keeps the quota, --cpu-quota alone keeps the period" {
  rtd run -d -b "$BUNDLE" e2e-cpuhalf
  rt update --cpu-quota 50000 --cpu-period 100000 e2e-cpuhalf
  rt update --cpu-period 200000 e2e-cpuhalf
  run rt exec e2e-cpuhalf sh -c "$CGROUP_LIMITS_SH"
  [[ $output == *" cpu=50000 200000 "* ]] || { echo "$output" >&2; false; }
  rt update --cpu-quota 30000 e2e-cpuhalf
  run rt exec e2e-cpuhalf sh -c "$CGROUP_LIMITS_SH"
  [[ $output == *" cpu=30000 200000 "* ]] || { echo "$output" >&2; false; }
  rt delete -f e2e-cpuhalf
}

@test "cgroupsPath: a frozen cgroup is refused at create, not joined" {
  local fz=/sys/fs/cgroup/freezer cg=/e2e-frozen-$$
  [ -d "$fz" ] || skip "no cgroup v1 freezer hierarchy on this host"
  mkdir "$fz$cg"
  echo FROZEN >"$fz$cg/freezer.state"
  update_config '.linux.cgroupsPath = $p' --arg p "$cg"
  local cmd
  for cmd in "run -d" create; do
    # shellcheck disable=SC2086
    run timeout 120 "$RUNTIME" --root "$E2E_TMP/root" $cmd -b "$BUNDLE" e2e-frozen </dev/null
    [ "$status" -eq 1 ] || { echo "$cmd: status $status: $output" >&2; false; }
    assert_runc_error "container's cgroup unexpectedly frozen"
  done
  assert_no_state
  echo THAWED >"$fz$cg/freezer.state"
  rmdir "$fz$cg"
  local left
  left=$(cgroups_left e2e-frozen "${cg#/}")
  [ -z "$left" ] || { echo "cgroups left: $left" >&2; false; }
}

@test "cgroupsPath: two containers in one cgroup; deleting one leaves the other running" {
  update_config '.linux.cgroupsPath = $p' --arg p "/e2e-shared-$$"
  rtd run -d -b "$BUNDLE" e2e-share1
  run rtd run -d -b "$BUNDLE" e2e-share2
  [ "$status" -eq 0 ] || { echo "$output" >&2; false; }
  [[ $output == *"container's cgroup is not empty"* ]]
  [ "$(state_field e2e-share2 status)" = running ]
  rt delete -f e2e-share1
  [ "$(state_field e2e-share2 status)" = running ]
  run rt exec e2e-share2 echo still here
  [ "$status" -eq 0 ]
  [ "$output" = "still here" ]
  rt delete -f e2e-share2
  assert_no_state
  local left
  left=$(cgroups_left e2e-share1 e2e-share2 "e2e-shared-$$")
  [ -z "$left" ] || { echo "cgroups left: $left" >&2; false; }
}

@test "root: a --root of about 200 bytes works, and its sockets go with the container" {
  local deep
  deep="$E2E_TMP/$(printf 'd%.0s' $(seq 1 170))/state"
  [ "${#deep}" -ge 190 ]
  local before=""
  [ -d /run/hull-sock ] && before=$(ls /run/hull-sock)
  "$RUNTIME" --root "$deep" run -d -b "$BUNDLE" e2e-deep </dev/null >"$E2E_TMP/deep.log" 2>&1 ||
    { cat "$E2E_TMP/deep.log" >&2; false; }
  [ "$("$RUNTIME" --root "$deep" state e2e-deep | jq -r .status)" = running ]
  run "$RUNTIME" --root "$deep" exec e2e-deep echo deep
  [ "$status" -eq 0 ]
  [ "$output" = deep ]
  "$RUNTIME" --root "$deep" delete -f e2e-deep
  [ -z "$("$RUNTIME" --root "$deep" list -q)" ]
  local after=""
  [ -d /run/hull-sock ] && after=$(ls /run/hull-sock)
  [ "$before" = "$after" ] || { echo "socket directories left: $after" >&2; false; }
  rm -rf "${deep%/state}"
}

@test "root: a root others may write or own, and a symlinked sandboxes, are refused naming the path" {
  [ "$RUNTIME_NAME" != runc ] || skip "runc takes any existing --root as it is"
  local bad="$E2E_TMP/root-0777"
  mkdir -m 0777 "$bad"
  chmod 0777 "$bad"
  chown 1000:1000 "$bad"
  run "$RUNTIME" --root "$bad" run -b "$BUNDLE" e2e-badroot </dev/null
  [ "$status" -ne 0 ]
  [[ $output == *"state directory $bad is owned by uid 1000"*"remove it"* ]] || { echo "$output" >&2; false; }
  [ -z "$(ls -A "$bad")" ]
  chown 0:0 "$bad"
  run "$RUNTIME" --root "$bad" run -b "$BUNDLE" e2e-badroot </dev/null
  [ "$status" -ne 0 ]
  [[ $output == *"state directory $bad has mode 0777"* ]] || { echo "$output" >&2; false; }
  [ -z "$(ls -A "$bad")" ]
  rm -rf "$bad"

  local root="$E2E_TMP/root-link"
  mkdir -m 0700 "$root" "$E2E_TMP/elsewhere"
  ln -s "$E2E_TMP/elsewhere" "$root/sandboxes"
  run "$RUNTIME" --root "$root" run -b "$BUNDLE" e2e-badroot </dev/null
  [ "$status" -ne 0 ]
  [[ $output == *"state directory $root/sandboxes is a symlink (to $E2E_TMP/elsewhere)"* ]] ||
    { echo "$output" >&2; false; }
  [ -z "$(ls -A "$E2E_TMP/elsewhere")" ]
  [ -z "$("$RUNTIME" --root "$root" list -q)" ]
  [ "$(ls -A "$root")" = sandboxes ] || { ls -la "$root" >&2; false; }
  rm -rf "$root" "$E2E_TMP/elsewhere"
}

@test "vm size: io.hull.* annotations need the host's allow-list, and stay under its caps" {
  [ "$RUNTIME_NAME" != runc ] || skip "runc has no VM to size"
  update_config '.annotations = {"io.hull.vm.vcpus": "2"}'
  run rt run -b "$BUNDLE" e2e-ann </dev/null
  [ "$status" -ne 0 ]
  [[ $output == *"does not allow the annotation io.hull.vm.vcpus"*"vm.allowed_annotations"* ]] ||
    { echo "$output" >&2; false; }
  assert_no_state
  local base='{}'
  [ -z "${HULL_CONFIG:-}" ] || base=$(cat "$HULL_CONFIG")
  jq '.vm.allowed_annotations = ["io.hull.vm.vcpus", "io.hull.vm.memory-mib"] |
      .vm.max_vcpus = 1 | .vm.max_memory_mib = 256' <<<"$base" >"$E2E_TMP/allowing.json"
  run env HULL_CONFIG="$E2E_TMP/allowing.json" "$RUNTIME" --root "$E2E_TMP/root" run -b "$BUNDLE" e2e-ann </dev/null
  [ "$status" -ne 0 ]
  [[ $output == *"io.hull.vm.vcpus"*"above this host's cap vm.max_vcpus = 1"* ]] ||
    { echo "$output" >&2; false; }
  update_config '.annotations = {"io.hull.vm.memory-mib": "512"}'
  run env HULL_CONFIG="$E2E_TMP/allowing.json" "$RUNTIME" --root "$E2E_TMP/root" run -b "$BUNDLE" e2e-ann </dev/null
  [ "$status" -ne 0 ]
  [[ $output == *"io.hull.vm.memory-mib"*"above this host's cap vm.max_memory_mib = 256"* ]] ||
    { echo "$output" >&2; false; }
  assert_no_state
}

@test "vm size: the host cgroup holds the VM to its RAM plus the overhead, with all RAM touched" {
  [ "$RUNTIME_NAME" != runc ] || skip "runc has no VM"
  [ -d /sys/fs/cgroup/memory ] || skip "needs the cgroup v1 memory controller"
  local cg=/e2e-mem-$$
  update_config '.linux.cgroupsPath = $p | .linux.resources = {"devices":[{"allow":true,"access":"rwm"}]} |
    .mounts += [{"destination":"/mnt","type":"tmpfs","source":"tmpfs","options":["size=400m"]}]' --arg p "$cg"
  rt run -d -b "$BUNDLE" e2e-mem </dev/null
  local dir=/sys/fs/cgroup/memory$cg
  # The default VM: 256 MiB, so 256 + 96 MiB on the host.
  [ "$(cat "$dir/memory.limit_in_bytes")" -eq $(((256 + 96) << 20)) ]
  # Fill the guest's RAM (about 215 MiB free for it) through a tmpfs, twice,
  # freeing it after each, so the guest can still start processes. Zeros
  # written are pages touched as well as any others, and dd writes them in
  # large blocks (a pipe of small writes takes a minute under TCG).
  rt exec e2e-mem sh -c 'dd if=/dev/zero of=/mnt/f bs=1M count=200 2>/dev/null; rm -f /mnt/f'
  rt exec e2e-mem sh -c 'dd if=/dev/zero of=/mnt/g bs=1M count=200 2>/dev/null; rm -f /mnt/g'
  local max
  max=$(cat "$dir/memory.max_usage_in_bytes")
  echo "host cgroup peak: $((max >> 20)) MiB" >&3
  [ "$max" -gt $((200 << 20)) ]
  [ "$max" -le $(((256 + 96) << 20)) ]
  [ "$(cat "$dir/memory.failcnt")" -eq 0 ] || grep -E 'oom_kill |under_oom' "$dir/memory.oom_control" >&3
  [ "$(rt state e2e-mem | jq -r .status)" = running ]
  run rt exec e2e-mem echo alive
  [ "$output" = alive ]
  rt delete -f e2e-mem
  assert_no_state
}

@test "share: guest root's mknod in its rootfs fails and the host sees no node" {
  [ "$RUNTIME_NAME" != runc ] || skip "runc's container is on the host"
  update_config '.linux.resources.devices = [{"allow":true,"access":"rwm"}] |
    .process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"] |
    .process.capabilities.permitted += ["CAP_MKNOD"]'
  set_args sh -c 'mknod /hostnull c 1 3 && echo made; mknod /hostsda b 8 0 && echo made; mkfifo /fifo && echo fifo'
  run rt run -b "$BUNDLE" e2e-mknod </dev/null
  [[ $output != *made* ]] || { echo "$output" >&2; false; }
  [[ $output == *fifo* ]] || { echo "$output" >&2; false; }
  [ ! -e "$BUNDLE/rootfs/hostnull" ]
  [ ! -e "$BUNDLE/rootfs/hostsda" ]
  assert_no_state
}

@test "share: a ro volume is read-only with its submounts" {
  [ "$RUNTIME_NAME" != runc ] || skip "runc's plain ro leaves submounts writable"
  local src=$E2E_TMP/rosrc
  mkdir -p "$src/sub"
  mount -t tmpfs -o size=1m e2e-rosub "$src/sub"
  update_config '.mounts += [{"destination":"/dst","type":"bind","source":$s,"options":["rbind","ro"]}]' --arg s "$src"
  set_args sh -c 'touch /dst/top && echo top-written; touch /dst/sub/x && echo sub-written; ls /dst'
  run rt run -b "$BUNDLE" e2e-rosub </dev/null
  umount "$src/sub"
  [[ $output != *written* ]] || { echo "$output" >&2; false; }
  [[ $output == *sub* ]] || { echo "$output" >&2; false; }
  [ -z "$(ls -A "$src/sub")" ]
  [ "$(ls -A "$src")" = sub ]
  assert_no_state
}

@test "relay: after create, the relay talks to the guest jailed, with no capability, under seccomp" {
  [ "$RUNTIME_NAME" != runc ] || skip "runc has no relay"
  set_args sh -c 'echo relayed; exit 3'
  rt create -b "$BUNDLE" e2e-relay </dev/null >"$E2E_TMP/relay.out" 2>&1
  local monitor relay="" c i
  monitor=$(rt state e2e-relay | jq -r .pid)
  for i in $(seq 50); do
    for c in $(pgrep -P "$monitor"); do
      if tr '\0' ' ' <"/proc/$c/cmdline" | grep -q ' __relay '; then relay=$c; fi
    done
    [ -z "$relay" ] || break
    sleep 0.2
  done
  [ -n "$relay" ] || { echo "no relay below monitor $monitor" >&2; false; }
  grep -E '^(Uid|Cap|NoNewPrivs|Seccomp)' "/proc/$relay/status" >&2
  [ "$(awk '/^Uid:/ {print $2}' "/proc/$relay/status")" != 0 ]
  for key in CapInh CapPrm CapEff CapBnd CapAmb; do
    [ "$(awk -v k="$key:" '$1 == k {print $2}' "/proc/$relay/status")" = 0000000000000000 ]
  done
  [ "$(awk '/^NoNewPrivs:/ {print $2}' "/proc/$relay/status")" = 1 ]
  [ "$(awk '/^Seccomp:/ {print $2}' "/proc/$relay/status")" = 2 ]
  [ "$(readlink "/proc/$relay/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ]
  [ "$(readlink "/proc/$relay/ns/pid")" != "$(readlink /proc/self/ns/pid)" ]
  # ... and still relays the process's output.
  rt start e2e-relay
  wait_for_status e2e-relay stopped 30
  grep -q relayed "$E2E_TMP/relay.out"
  rt delete e2e-relay
  assert_no_state
}

@test "after the suite: no process, mount, cgroup or state of any container" {
  assert_no_state
  assert_nothing_left_under "$E2E_TMP"
  [ -z "$(cgroups_left)" ] || { echo "cgroups left: $(cgroups_left)" >&2; false; }
}
