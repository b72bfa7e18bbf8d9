#!/usr/bin/env bats
# Container setup at the edges that callers written for runc reach: a cwd
# the process user cannot search, a terminal for a non-root user, a
# read-only /dev, /proc as a symlink in the image, recursive mount
# attributes on a volume with a submount. Same bundles as cli-*.bats; every
# test passes with runc 1.1 (HULL_E2E_RUNTIME=/usr/sbin/runc) and with hull.

# The single-quoted sh -c and jq programs below expand in the container or
# in jq, not here:
# shellcheck disable=SC2016
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
teardown() {
  if [ -n "${SUBMOUNT:-}" ]; then
    umount "$SUBMOUNT" 2>/dev/null || true
    SUBMOUNT=
  fi
  cli_teardown
}

# Runs `RUNTIME --root ROOT ARGS...` in the foreground on a pty made by
# script(1); prints the session.
on_tty() {
  timeout 150 script -qec "$RUNTIME --root $E2E_TMP/root $*" /dev/null </dev/null
}

@test "cwd: a directory only root can search works for a uid 1000 process (run and exec)" {
  chmod 700 "$BUNDLE/rootfs/root"
  update_config '.process.user = {"uid": 1000, "gid": 1000} | .process.cwd = "/root"'
  set_args sh -c 'pwd; id -u'
  run rt run -b "$BUNDLE" e2e-cwd
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf '/root\n1000')" ]

  update_config '.process.user = {"uid": 0, "gid": 0} | .process.cwd = "/"'
  set_args sleep 1000
  rtd run -d -b "$BUNDLE" e2e-cwd-exec
  run rt exec --user 1000:1000 --cwd /root e2e-cwd-exec sh -c 'pwd; id -u'
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf '/root\n1000')" ]
  rt delete -f e2e-cwd-exec
}

@test "stdio: a uid 1000 process owns its stdio and can reopen it" {
  update_config '.process.user = {"uid": 1000, "gid": 1000}'
  set_args sh -c 'stat -L -c %u /proc/self/fd/1; echo reopened >/dev/stdout'
  run bash -c '"$0" --root "$1" run -b "$2" e2e-stdio </dev/null | cat' "$RUNTIME" "$E2E_TMP/root" "$BUNDLE"
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf '1000\nreopened')" ]
}

@test "tty: the terminal of a uid 1000 process is its own (run -t and exec -t)" {
  update_config '.process.terminal = true | .process.user = {"uid": 1000, "gid": 1000}'
  set_args sh -c 'echo "owner=$(stat -c %u:%g $(tty))"'
  run on_tty run -b "$BUNDLE" e2e-ttyuser
  echo "$output"
  [ "$status" -eq 0 ]
  # runc changes the slave's owner only: its group stays devpts' gid=5 (tty)
  [[ $output == *"owner=1000:5"* ]]
  assert_no_state

  update_config '.process.terminal = false | .process.user = {"uid": 0, "gid": 0}'
  set_args sleep 1000
  rtd run -d -b "$BUNDLE" e2e-ttyuser-exec
  run on_tty exec -t --user 1000:1000 e2e-ttyuser-exec sh -c "'echo owner=\$(stat -c %u:%g \$(tty))'"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"owner=1000:5"* ]]
  rt delete -f e2e-ttyuser-exec
}

@test "dev: a read-only /dev gets its devices, /dev/pts and the console first" {
  update_config '(.mounts[] | select(.destination == "/dev") | .options) += ["ro"] | .process.terminal = true'
  set_args sh -c 'test -c /dev/null && test -c /dev/console && test -d /dev/pts && echo devices-ok;
    touch /dev/x 2>&1; echo "dev=$(grep " /dev " /proc/self/mountinfo | cut -d" " -f6)"; tty'
  run on_tty run -b "$BUNDLE" e2e-rodev
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *devices-ok* ]]
  [[ $output == *"/dev/x: Read-only file system"* ]]
  [[ $output == *"dev=ro,"* ]]
  [[ $output == *"/dev/pts/"* ]]
  assert_no_state
}

@test "proc: a rootfs whose /proc is a symlink is refused in runc's words" {
  rmdir "$BUNDLE/rootfs/proc"
  ln -s /nonexistent "$BUNDLE/rootfs/proc"
  run rt run -b "$BUNDLE" e2e-proclink
  assert_runc_error ""
  [[ $output == *'filesystem \"proc\" must be mounted on ordinary directory'* ]]
  assert_no_state
}

# A volume with a tmpfs mounted inside it (vol/sub), bound at /vol with
# OPTIONS (a JSON array); the container says which of /vol and /vol/sub it
# can write.
run_on_volume_with_submount() {
  mkdir -p "$BUNDLE/vol/sub"
  if [ -z "${SUBMOUNT:-}" ]; then
    mount -t tmpfs -o size=64k e2e-sub "$BUNDLE/vol/sub"
    SUBMOUNT=$BUNDLE/vol/sub
  fi
  update_config '.mounts = [.mounts[] | select(.destination != "/vol")]
    | .mounts += [{"destination": "/vol", "type": "bind", "source": $v, "options": $o}]' \
    --arg v "$BUNDLE/vol" --argjson o "$1"
  set_args sh -c 'touch /vol/a 2>/dev/null && t=rw || t=ro; touch /vol/sub/b 2>/dev/null && s=rw || s=ro
    rm -f /vol/a /vol/sub/b; echo "top=$t sub=$s"'
  run rt run -b "$BUNDLE" e2e-rro
}

@test "mounts: ro on an rbind is not recursive in runc (it is in hull), rro is, rrw undoes both" {
  run_on_volume_with_submount '["rbind", "ro"]'
  [ "$status" -eq 0 ]
  # hull makes a read-only volume read-only with its submounts (the guest
  # must not find writable holes in it: docs/differences-from-runc.md)
  if [ "$RUNTIME_NAME" = hull ]; then
    [ "$output" = "top=ro sub=ro" ]
  else
    [ "$output" = "top=ro sub=rw" ]
  fi
  run_on_volume_with_submount '["rbind", "rro"]'
  [ "$status" -eq 0 ]
  [ "$output" = "top=ro sub=ro" ]
  run_on_volume_with_submount '["rbind", "ro", "rrw"]'
  [ "$status" -eq 0 ]
  [ "$output" = "top=rw sub=rw" ]
  run_on_volume_with_submount '["rbind", "rw"]'
  [ "$status" -eq 0 ]
  [ "$output" = "top=rw sub=rw" ]
  # the host's volume kept nothing of it
  [ -z "$(ls -A "$BUNDLE/vol/sub")" ]
  assert_no_state
}
