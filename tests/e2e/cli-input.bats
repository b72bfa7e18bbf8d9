#!/usr/bin/env bats
# The runtime binary, as runc's own integration tests drive it (lib/cli.bash):
# --debug, help, and bad input: runc's error shape, nothing left behind.
#
#   HULL_E2E_RUNTIME=/usr/sbin/runc bats tests/e2e/cli-input.bats   (the reference)
#   bats tests/e2e/cli-input.bats                                   (the built hull)

# Single-quoted programs (sh -c, jq) expand in the container or in jq:
# shellcheck disable=SC2016
bats_require_minimum_version 1.5.0
load lib/common
load lib/cli  # also the setup/teardown hooks

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
