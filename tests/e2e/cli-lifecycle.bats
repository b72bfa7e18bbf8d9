#!/usr/bin/env bats
# The runtime binary, as runc's own integration tests drive it (lib/cli.bash):
# run, create/start, state transitions, kill, delete, list, pause/resume,
# pid-file, container ids, exit codes and the hooks of every kind.
#
#   HULL_E2E_RUNTIME=/usr/sbin/runc bats tests/e2e/cli-lifecycle.bats   (the reference)
#   bats tests/e2e/cli-lifecycle.bats                                   (the built hull)

# Single-quoted programs (sh -c, jq) expand in the container or in jq:
# shellcheck disable=SC2016
bats_require_minimum_version 1.5.0
load lib/common
load lib/cli  # also the setup/teardown hooks

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
