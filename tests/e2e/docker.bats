#!/usr/bin/env bats
# Docker with the runtime under test (`--add-runtime hull-e2e=<runtime>`): a
# private dockerd (lib/docker.bash), the busybox image imported from Debian's
# busybox-static, no registry.
#
#   HULL_E2E_RUNTIME=/usr/sbin/runc bats tests/e2e/docker.bats   (the reference)
#   bats tests/e2e/docker.bats                                   (the built hull)

# The single-quoted sh -c, bash -c and jq programs in this file expand in the
# container, in the child shell or in jq, not here:
# shellcheck disable=SC2016
bats_require_minimum_version 1.5.0
load lib/common
load lib/cli
load lib/docker

setup_file() {
  e2e_setup_file || return 1
  [ -n "$E2E_SKIP" ] || start_dockerd
}
teardown_file() {
  local rc=0
  stop_dockerd || rc=1
  e2e_teardown_file || rc=1
  return $rc
}
setup() { e2e_setup; }
teardown() { [ -n "${E2E_SKIP:-}" ] || dk_teardown; }

# `docker run -it` of a busybox shell, as a command line for pty_session.
docker_it_cmd() {
  echo "DOCKER_CONFIG=$DOCKER_DIR/cli DOCKER_HOST=unix://$DOCKER_DIR/docker.sock" \
    "$DOCKER_CLI run --runtime $DOCKER_RUNTIME -it --rm --label hull-e2e-test $E2E_IMAGE sh"
}

@test "docker run --rm: output, and the container is gone" {
  run dk_run --rm "$E2E_IMAGE" sh -c 'echo hello from $(hostname -s 2>/dev/null || hostname)'
  [ "$status" -eq 0 ]
  [[ $output == "hello from "* ]]
  [ -z "$(dk ps -aq)" ]
}

@test "docker run: exit codes propagate" {
  run dk_run --rm "$E2E_IMAGE" sh -c 'exit 42'
  [ "$status" -eq 42 ]
  run dk_run --rm "$E2E_IMAGE" false
  [ "$status" -eq 1 ]
  run -127 dk_run --rm "$E2E_IMAGE" /no/such/binary
  [ "$status" -eq 127 ]
}

@test "docker run -i: stdin through a pipe" {
  run env DOCKER_CONFIG="$DOCKER_DIR/cli" DOCKER_HOST="unix://$DOCKER_DIR/docker.sock" \
    bash -c 'printf "one\ntwo\n" | "$0" run --runtime "$1" -i --rm --label hull-e2e-test "$2" sh -c "wc -l"' \
    "$DOCKER_CLI" "$DOCKER_RUNTIME" "$E2E_IMAGE"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | tr -d ' ')" = 2 ]
}

@test "docker run -d, exec, logs, stop (SIGTERM honoured), rm" {
  dk_run -d --name e2e-d "$E2E_IMAGE" \
    sh -c 'trap "echo got-term; exit 3" TERM; echo started; while :; do sleep 0.1; done'
  wait_for 30 bash -c '[ "$(DOCKER_CONFIG=$0/cli $1 -H unix://$0/docker.sock logs e2e-d 2>&1)" = started ]' \
    "$DOCKER_DIR" "$DOCKER_CLI"

  run dk exec e2e-d sh -c 'echo "in exec $FOO"; exit 5'
  [ "$status" -eq 5 ]
  [ "$output" = "in exec " ]
  run dk exec -e FOO=bar -w /tmp e2e-d sh -c 'echo "$FOO $(pwd)"'
  [ "$output" = "bar /tmp" ]
  run dk exec e2e-d ps
  [[ $output == *"sleep"* ]]

  SECONDS=0
  dk stop -t 20 e2e-d
  [ "$SECONDS" -lt 15 ]  # the trap ended it, not the SIGKILL at 20 s
  [ "$(dk inspect -f '{{.State.ExitCode}}' e2e-d)" = 3 ]
  run dk logs e2e-d
  [ "$output" = "$(printf 'started\ngot-term')" ]
  dk rm e2e-d
  [ -z "$(dk ps -aq)" ]
}

@test "docker stop: SIGKILL after the timeout when SIGTERM is ignored" {
  # PID 1 with no TERM handler ignores SIGTERM.
  dk_run -d --name e2e-k "$E2E_IMAGE" sleep 1000
  SECONDS=0
  dk stop -t 2 e2e-k
  [ "$SECONDS" -ge 2 ]
  [ "$SECONDS" -lt 20 ]
  [ "$(dk inspect -f '{{.State.ExitCode}}' e2e-k)" = 137 ]
  dk rm e2e-k
}

@test "docker kill: a signal reaches the process; the default is SIGKILL; rm -f" {
  # PID 1 ignores USR1 until its trap is set: wait for the line it prints then.
  dk_run -d --name e2e-sig "$E2E_IMAGE" sh -c 'trap "exit 9" USR1; echo trap-set; while :; do sleep 0.1; done'
  wait_for 60 bash -c '[ "$(DOCKER_CONFIG=$0/cli $1 -H unix://$0/docker.sock logs e2e-sig 2>&1)" = trap-set ]' \
    "$DOCKER_DIR" "$DOCKER_CLI"
  dk kill -s USR1 e2e-sig
  [ "$(dk wait e2e-sig)" = 9 ]
  dk rm e2e-sig

  dk_run -d --name e2e-kill "$E2E_IMAGE" sleep 1000
  dk kill e2e-kill
  [ "$(dk wait e2e-kill)" = 137 ]
  dk rm e2e-kill

  dk_run -d --name e2e-rmf "$E2E_IMAGE" sleep 1000
  dk rm -f e2e-rmf
  [ -z "$(dk ps -aq)" ]
}

@test "docker run -it: a pty (driven by script)" {
  run pty_session "$(docker_it_cmd)" 'echo hello-$((6*7))' "$TTY_CHECK_SH; exit 4"
  [ "$status" -eq 4 ] || { echo "$output" >&2; false; }
  [[ $output == *hello-42* ]]
  [[ $output == *term-ok-42* ]]
}

@test "docker run -it: the terminal is a /dev/pts/N of the container's devpts" {
  run pty_session "$(docker_it_cmd)" 'tty; exit 0'
  [ "$status" -eq 0 ] || { echo "$output" >&2; false; }
  [[ $output == *"/dev/pts/"* ]]
}

@test "docker run --memory --cpus --pids-limit: the limits reach the container's cgroup" {
  run dk_run --rm --memory 64m --cpus 0.5 --pids-limit 50 "$E2E_IMAGE" sh -c "$CGROUP_LIMITS_SH"
  [ "$status" -eq 0 ]
  [ "$output" = "mem=67108864 cpu=50000 100000 pids=50" ]
}

@test "docker: no container or shim left (teardown then checks dockerd's mount namespace is empty)" {
  [ -z "$(dk ps -aq)" ]
  [ -z "$(processes_under "$DOCKER_DIR/exec/containerd/containerd.sock")" ]
}
