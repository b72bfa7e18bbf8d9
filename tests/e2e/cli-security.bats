#!/usr/bin/env bats
# The runtime binary, as runc's own integration tests drive it (lib/cli.bash):
# seccomp, the state root's checks, the share, the relay's jail; its last
# test checks that the suite left nothing behind.
#
#   HULL_E2E_RUNTIME=/usr/sbin/runc bats tests/e2e/cli-security.bats   (the reference)
#   bats tests/e2e/cli-security.bats                                   (the built hull)

# Single-quoted programs (sh -c, jq) expand in the container or in jq:
# shellcheck disable=SC2016
bats_require_minimum_version 1.5.0
load lib/common
load lib/cli  # also the setup/teardown hooks

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
  local monitor relay="" c
  monitor=$(rt state e2e-relay | jq -r .pid)
  for _ in $(seq 50); do
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
  assert_suite_left_nothing
}
