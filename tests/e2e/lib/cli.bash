# Helpers of tests/e2e/cli-*.bats: runc-style CLI tests of one runtime binary,
# in the manner of runc's own bats integration tests (and helpers, reduced to
# what we use): run, create/start, state transitions, kill, delete, exec, tty
# with a console socket, pause/resume, update, ps, list, events, hooks,
# pid-file, exit codes and bad inputs with runc's error shape
# (`level=error msg="..."`, exit status 1) and no state left behind.
#
# Assertions stay within what the runtime-spec and runc agree on, so the same
# files pass with runc and with hull; where runc 1.1 deviates from the spec
# (poststart hooks run during create), a test checks only the common part.
#
# Each file runs as its own suite (e2e-cli-*), one after the other in one job
# of scripts/test.sh (scripts/lib/suites.sh), and each checks at its end that
# it left nothing behind (cli_teardown_file); cli-security.bats, the last,
# counts that check as its last test too.

# The hooks of every cli-*.bats file: a temp dir per file, a fresh bundle per
# test, and "nothing left" checks after each test and at the end of the file.
cli_setup_file() {
  e2e_setup_file
  touch "$E2E_TMP/began"
}
cli_setup() {
  e2e_setup
  make_bundle
}
cli_teardown_file() {
  local rc=0
  if [ -z "${E2E_SKIP:-}" ] && [ -n "${E2E_TMP:-}" ]; then
    delete_all
    assert_suite_left_nothing || rc=1
  fi
  e2e_teardown_file || rc=1
  return $rc
}

# The runtime with this suite's private state root.
rt() {
  "$RUNTIME" --root "$E2E_TMP/root" "$@"
}

# For commands that leave a process behind (create, run -d, exec -d): the
# container inherits the caller's stdio, so it must not be bats' capture pipe
# (`run` would wait for it forever). Output goes through a file instead and is
# printed when the command returns, so `run rtd ...` still sees it.
rtd() {
  local rc=0 log
  log=$(mktemp "$E2E_TMP/rtd.XXXXXX")
  rt "$@" </dev/null >"$log" 2>&1 || rc=$?
  cat "$log"
  rm -f "$log"
  return $rc
}

# A fresh bundle for this test: a copy of the busybox rootfs and runc's
# default config (`runc spec`), with no terminal and `sleep 1000` as the process.
make_bundle() {
  BUNDLE=$E2E_TMP/bundle-$BATS_TEST_NUMBER
  mkdir -p "$BUNDLE"
  cp -a "$E2E_TMP/rootfs" "$BUNDLE/rootfs"
  cat >"$BUNDLE/config.json" <<'EOF'
{"ociVersion":"1.0.2","process":{"terminal":false,"user":{"uid":0,"gid":0},"args":["sleep","1000"],
 "env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","TERM=xterm"],"cwd":"/",
 "capabilities":{"bounding":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],
  "effective":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],
  "permitted":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],
  "ambient":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"]},
 "rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}],"noNewPrivileges":true},
 "root":{"path":"rootfs","readonly":false},"hostname":"e2e",
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
  {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]},
  {"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620","gid=5"]},
  {"destination":"/dev/shm","type":"tmpfs","source":"shm","options":["nosuid","noexec","nodev","mode=1777","size=65536k"]},
  {"destination":"/dev/mqueue","type":"mqueue","source":"mqueue","options":["nosuid","noexec","nodev"]},
  {"destination":"/sys","type":"sysfs","source":"sysfs","options":["nosuid","noexec","nodev","ro"]},
  {"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["nosuid","noexec","nodev","relatime","ro"]}],
 "linux":{"resources":{"devices":[{"allow":false,"access":"rwm"}]},
  "namespaces":[{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts"},{"type":"mount"}],
  "maskedPaths":["/proc/acpi","/proc/asound","/proc/kcore","/proc/keys","/proc/latency_stats","/proc/timer_list",
   "/proc/timer_stats","/proc/sched_debug","/sys/firmware","/proc/scsi"],
  "readonlyPaths":["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"]}}
EOF
}

# update_config JQ_FILTER [jq args...]: edits the bundle's config.json.
update_config() {
  local filter=$1
  shift
  jq "$@" "$filter" "$BUNDLE/config.json" >"$BUNDLE/config.json.new" &&
    mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
}

# set_args ARG...: the container process's argv.
set_args() {
  local a='[]' x
  for x in "$@"; do a=$(jq -c --arg x "$x" '. + [$x]' <<<"$a"); done
  # shellcheck disable=SC2016  # $a is jq's variable, not the shell's
  update_config '.process.args = $a' --argjson a "$a"
}

# The field F of `state ID`.
state_field() {
  rt state "$1" | jq -r ".$2"
}

wait_for_status() {  # ID STATUS [SECONDS]
  local i
  for ((i = 0; i < ${3:-10} * 10; i++)); do
    [ "$(rt state "$1" 2>/dev/null | jq -r .status)" = "$2" ] && return 0
    sleep 0.1
  done
  echo "container $1 did not reach status $2 (now: $(rt state "$1" 2>&1))" >&2
  return 1
}

# The error line shape runc prints (logrus text, exit status 1 or 255).
# Checks the last command run with `run` printed an error line matching REGEX.
# shellcheck disable=SC2154  # status and output are set by bats' run
assert_runc_error() {
  local regex=$1
  [ "$status" -ne 0 ] || { echo "expected a failure, got status 0: $output" >&2; return 1; }
  if ! grep -Eq "level=error msg=\"[^\"]*$regex" <<<"$output"; then
    echo "expected an error line 'level=error msg=\"...$regex...\"', got (status $status):" >&2
    echo "$output" >&2
    return 1
  fi
}

# No container left in the state root and no directory for one.
assert_no_state() {
  local ids
  ids=$(rt list -q) || { echo "list failed: $ids" >&2; return 1; }
  [ -z "$ids" ] || { echo "containers left: $ids" >&2; return 1; }
  if [ -d "$E2E_TMP/root" ]; then
    local left
    left=$(find "$E2E_TMP/root" -mindepth 1 -maxdepth 1 ! -name sandboxes)
    [ -z "$left" ] || { echo "state left: $left" >&2; return 1; }
    if [ -d "$E2E_TMP/root/sandboxes" ]; then
      left=$(find "$E2E_TMP/root/sandboxes" -mindepth 1 -maxdepth 1)
      [ -z "$left" ] || { echo "sandboxes left: $left" >&2; return 1; }
    fi
  fi
}

# Shell code, run inside a container, printing "mem=<bytes|max> cpu=<quota|max> <period> pids=<n|max>"
# from cgroup v1 (runc on this host) or cgroup v2 (hull's guest, runc on v2 hosts).
# shellcheck disable=SC2016,SC2034  # expands in the container; read by the .bats files
CGROUP_LIMITS_SH='
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  echo "mem=$(cat /sys/fs/cgroup/memory.max) cpu=$(cat /sys/fs/cgroup/cpu.max) pids=$(cat /sys/fs/cgroup/pids.max)"
else
  echo "mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes) cpu=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us) pids=$(cat /sys/fs/cgroup/pids/pids.max)"
fi'

# Starts hull-e2e-recvtty on SOCKET in the background, relaying stdin from
# FILE and its output to OUT; sets RECVTTY_PID.
start_recvtty() {  # SOCKET IN OUT
  [ -x "$RECVTTY" ] || skip "hull-e2e-recvtty is not built ($RECVTTY)"
  rm -f "$E2E_TMP/recvtty.pid"
  "$RECVTTY" --pid-file "$E2E_TMP/recvtty.pid" "$1" <"$2" >"$3" 2>&1 &
  RECVTTY_PID=$!
  wait_for 10 test -s "$E2E_TMP/recvtty.pid"
}

# Force-deletes every container in the suite's state root.
delete_all() {
  local id
  for id in $(rt list -q 2>/dev/null); do
    echo "# cleaning up container $id" >&3
    rt delete -f "$id" >/dev/null 2>&1 || { rt kill "$id" KILL; rt delete -f "$id"; } >/dev/null 2>&1
  done
}

# cgroup directories a runc-style runtime left for our containers (named
# after the container ids, all of which start with "e2e-"): those named NAME...,
# or with none, every e2e-* made since the suite began.
# shellcheck disable=SC2120  # the cli-*.bats files that load this pass names
cgroups_left() {
  local args=() name
  if [ $# -eq 0 ]; then
    # Only those made since this suite began: another run on the host uses the
    # same "e2e-" ids at the same time, and its cgroups are not ours to judge.
    args=(-name 'e2e-*' -newer "$E2E_TMP/began")
  else
    for name in "$@"; do args+=(-name "$name" -o); done
    unset 'args[-1]'
  fi
  find /sys/fs/cgroup -maxdepth 5 -type d \( "${args[@]}" \) 2>/dev/null
}

# Fails, naming what, when a container's state, process or mount is left in
# the suite's temp dir, or a host cgroup (cgroups_left) since the suite began.
assert_suite_left_nothing() {
  assert_no_state || return 1
  assert_nothing_left_under "$E2E_TMP" || return 1
  # shellcheck disable=SC2119  # no names: every e2e-* cgroup since the suite began
  [ -z "$(cgroups_left)" ] || { echo "cgroups left: $(cgroups_left)" >&2; return 1; }
}

# Waits for the recvtty of start_recvtty to end (after its input closed);
# returns its exit status and forgets its pid, so teardown has nothing to stop.
wait_recvtty() {
  local rc=0
  wait "$RECVTTY_PID" || rc=$?
  RECVTTY_PID=
  return $rc
}

# Per-test cleanup: force-deletes whatever the test left, stops recvtty, and
# fails when the runtime left state, processes or mounts.
cli_teardown() {
  [ -z "${E2E_SKIP:-}" ] || return 0
  local rc=0
  delete_all
  if [ -n "${RECVTTY_PID:-}" ]; then
    kill "$RECVTTY_PID" 2>/dev/null
    wait "$RECVTTY_PID" 2>/dev/null
    RECVTTY_PID=
  fi
  assert_no_state || rc=1
  if [ -n "${BUNDLE:-}" ]; then
    local i
    for ((i = 0; i < 50; i++)); do  # a killed container may take a moment to go
      [ -z "$(processes_under "$BUNDLE")" ] && break
      sleep 0.1
    done
    assert_nothing_left_under "$BUNDLE" || rc=1
    rm -rf --one-file-system "$BUNDLE"
  fi
  return $rc
}

# Every cli-*.bats file loads this library for these hooks (bats calls the
# functions of these names, wherever they were defined).
setup_file() { cli_setup_file; }
teardown_file() { cli_teardown_file; }
setup() { cli_setup; }
teardown() { cli_teardown; }
