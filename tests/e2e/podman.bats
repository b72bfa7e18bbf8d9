#!/usr/bin/env bats
# Podman with the runtime under test (`podman --runtime <runtime>`), on private
# storage (lib/podman.bash), the busybox image imported from busybox-static.
#
#   HULL_E2E_RUNTIME=/usr/sbin/runc bats tests/e2e/podman.bats   (the reference)
#   bats tests/e2e/podman.bats                                   (the built hull)

# The single-quoted sh -c, bash -c and jq programs in this file expand in the
# container, in the child shell or in jq, not here:
# shellcheck disable=SC2016
bats_require_minimum_version 1.5.0
load lib/common
load lib/cli
load lib/podman

setup_file() {
  e2e_setup_file || return 1
  [ -n "$E2E_SKIP" ] || setup_podman
}
teardown_file() {
  local rc=0
  [ -n "${E2E_SKIP:-}" ] || teardown_podman || rc=1
  e2e_teardown_file || rc=1
  return $rc
}
setup() { e2e_setup; }
teardown() { [ -n "${E2E_SKIP:-}" ] || pm_teardown; }

# `podman run -it` of a busybox shell, as a command line for pty_session.
podman_it_cmd() {
  echo "$PODMAN_DIR/podman run --ulimit nofile=1024:1024 --ulimit nproc=1024:1024" \
    "--cgroup-parent $PODMAN_CGROUP_PARENT --label hull-e2e-test -it --rm $E2E_IMAGE sh"
}

@test "podman run --rm: output, exit codes, and the container is gone" {
  run pm_run --rm "$E2E_IMAGE" sh -c 'echo hello; exit 6'
  [ "$status" -eq 6 ]
  [ "$output" = hello ]
  run -127 pm_run --rm "$E2E_IMAGE" /no/such/binary
  [ -z "$(pm ps -aq)" ]
}

@test "podman run -i: stdin through a pipe" {
  run bash -c 'printf "a\nb\nc\n" | "$0" run --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --cgroup-parent $2 -i --rm "$1" wc -l' \
    "$PODMAN_DIR/podman" "$E2E_IMAGE" "$PODMAN_CGROUP_PARENT"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | tr -d ' ')" = 3 ]
}

@test "podman run -d, exec, logs, stop (SIGTERM honoured), rm" {
  pm_run -d --name e2e-d "$E2E_IMAGE" \
    sh -c 'trap "echo got-term; exit 3" TERM; echo started; while :; do sleep 0.1; done' >/dev/null
  wait_for 30 bash -c '[ "$("$0" logs e2e-d 2>&1)" = started ]' "$PODMAN_DIR/podman"
  run pm exec -e FOO=bar -w /tmp e2e-d sh -c 'echo "$FOO $(pwd)"; exit 5'
  [ "$status" -eq 5 ]
  [ "$output" = "bar /tmp" ]
  SECONDS=0
  pm stop -t 20 e2e-d
  [ "$SECONDS" -lt 15 ]
  [ "$(pm inspect -f '{{.State.ExitCode}}' e2e-d)" = 3 ]
  run pm logs e2e-d
  [ "$output" = "$(printf 'started\ngot-term')" ]
  pm rm e2e-d
}

@test "podman stop: SIGKILL after the timeout when SIGTERM is ignored" {
  pm_run -d --name e2e-k "$E2E_IMAGE" sleep 1000 >/dev/null
  SECONDS=0
  pm stop -t 2 e2e-k
  [ "$SECONDS" -ge 2 ]
  [ "$(pm inspect -f '{{.State.ExitCode}}' e2e-k)" = 137 ]
  pm rm e2e-k
}

@test "podman pause/unpause and kill" {
  # PID 1 ignores USR1 until its trap is set: wait for the line it prints then.
  pm_run -d --name e2e-p "$E2E_IMAGE" sh -c 'trap "exit 9" USR1; echo trap-set; while :; do sleep 0.1; done' >/dev/null
  wait_for 60 bash -c '[ "$("$0" logs e2e-p 2>&1)" = trap-set ]' "$PODMAN_DIR/podman"
  pm pause e2e-p
  [ "$(pm inspect -f '{{.State.Status}}' e2e-p)" = paused ]
  pm unpause e2e-p
  [ "$(pm inspect -f '{{.State.Status}}' e2e-p)" = running ]
  pm kill -s USR1 e2e-p
  [ "$(pm wait e2e-p)" = 9 ]
  pm rm e2e-p
}

@test "podman run -it: a pty (driven by script)" {
  run pty_session "$(podman_it_cmd)" 'echo hello-$((6*7))' "$TTY_CHECK_SH; exit 4"
  [ "$status" -eq 4 ] || { echo "$output" >&2; false; }
  [[ $output == *hello-42* ]]
  [[ $output == *term-ok-42* ]]
}

@test "podman run -it: the terminal is a /dev/pts/N of the container's devpts" {
  run pty_session "$(podman_it_cmd)" 'tty; exit 0'
  [ "$status" -eq 0 ] || { echo "$output" >&2; false; }
  [[ $output == *"/dev/pts/"* ]]
}

@test "podman run --memory --cpus: the limits reach the container's cgroup" {
  run pm_run --rm --memory 64m --cpus 0.5 --pids-limit 50 "$E2E_IMAGE" sh -c "$CGROUP_LIMITS_SH"
  [ "$status" -eq 0 ]
  [ "$output" = "mem=67108864 cpu=50000 100000 pids=50" ]
}

@test "podman: no container left" {
  [ -z "$(pm ps -aq)" ]
}
