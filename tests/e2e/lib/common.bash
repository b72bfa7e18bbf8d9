# Sourced by every tests/e2e/*.bats suite: which runtime to test, temp dirs,
# busybox bundles and images, and the "nothing left behind" checks.
#
#   HULL_E2E_RUNTIME  the runtime binary under test. Default: the built hull
#                     ($HULL_BUILD_DIR/bin/hull, else $HULL_BUILD_DIR/runtime/cli/hull).
#                     /usr/sbin/runc is the reference: every suite passes with it,
#                     and must pass unchanged with hull.
#   HULL_BUILD_DIR    the build tree (default <repo>/build): hull, hull-e2e-recvtty.
#   HULL_E2E_KEEP=1   keep the suite's temp dir (for a look after a failure).
#
# While the runtime has no `create` command (hull before its CLI lifecycle
# lands), every test skips with a message saying so, instead of failing.

E2E_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_TOP=$(cd "$E2E_LIB/../../.." && pwd)
HULL_BUILD_DIR=${HULL_BUILD_DIR:-$E2E_TOP/build}
# shellcheck disable=SC2034  # read by the .bats files that load this file
E2E_IMAGE=hull-e2e/busybox

e2e_default_runtime() {
  local c
  for c in "$HULL_BUILD_DIR/bin/hull" "$HULL_BUILD_DIR/runtime/cli/hull"; do
    if [ -x "$c" ]; then
      echo "$c"
      return
    fi
  done
  echo "$HULL_BUILD_DIR/bin/hull"
}
RUNTIME=${HULL_E2E_RUNTIME:-$(e2e_default_runtime)}
RUNTIME=$(readlink -f "$RUNTIME" 2>/dev/null || echo "$RUNTIME")
RUNTIME_NAME=$(basename "$RUNTIME")
# shellcheck disable=SC2034  # read by lib/cli.bash
RECVTTY=$HULL_BUILD_DIR/tests/hull-e2e-recvtty

# True when RUNTIME implements `create`. The exit status of `create --help`
# alone does not tell (a CLI may print its top-level help with status 0), so
# the help text must also show a usage line for create: runc prints
# "   runc create [command options] <container-id>", CLI11 "Usage: hull create ...".
runtime_has_create() {
  local out
  out=$("$RUNTIME" create --help 2>&1) || return 1
  grep -Eq '(^|[[:space:]])[^[:space:]]+ create( |$)' <<<"$out"
}

# Why this suite cannot run here, or nothing. Called from setup_file.
e2e_skip_reason() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "needs root"
  elif [ ! -x "$RUNTIME" ]; then
    if [ -n "${HULL_E2E_RUNTIME:-}" ]; then
      echo "HULL_E2E_RUNTIME=$HULL_E2E_RUNTIME is not an executable" >&2
      return 1
    fi
    echo "hull is not built ($RUNTIME); build it or set HULL_E2E_RUNTIME"
  elif ! runtime_has_create; then
    echo "$RUNTIME has no 'create' command yet (hull's CLI lifecycle has not landed); this suite runs for real once it has"
  fi
}

# setup_file helper: decides skip-or-run once, makes the suite's temp dir.
e2e_setup_file() {
  E2E_SKIP=$(e2e_skip_reason) || return 1
  export E2E_SKIP
  # Short path: unix socket paths (docker.sock, console sockets) must fit 108 bytes.
  E2E_TMP=$(mktemp -d /tmp/hull-e2e.XXXXXX)
  chmod 755 "$E2E_TMP"
  export E2E_TMP RUNTIME RUNTIME_NAME
  [ -n "$E2E_SKIP" ] && return 0
  e2e_point_hull_at_build_tree
  "$E2E_LIB/busybox-rootfs.sh" "$E2E_TMP/rootfs"
}

# The built hull (no HULL_E2E_RUNTIME given) is not installed: point it at the
# guest image and hull-vsock in the build tree, unless the caller already did
# (HULL_CONFIG, HULL_VSOCK). The variables reach hull through dockerd,
# containerd, podman and their shims, which pass their environment on.
e2e_point_hull_at_build_tree() {
  [ -z "${HULL_E2E_RUNTIME:-}" ] || return 0
  if [ -z "${HULL_CONFIG:-}" ] && [ -f "$HULL_BUILD_DIR/guest/vmlinux" ] &&
    [ -f "$HULL_BUILD_DIR/guest/initrd.img" ]; then
    printf '{"vm": {"kernel": "%s", "initrd": "%s"}}\n' "$HULL_BUILD_DIR/guest/vmlinux" \
      "$HULL_BUILD_DIR/guest/initrd.img" >"$E2E_TMP/hull-config.json"
    export HULL_CONFIG=$E2E_TMP/hull-config.json
  fi
  if [ -z "${HULL_VSOCK:-}" ] && [ -x "$HULL_BUILD_DIR/runtime/vsock/hull-vsock" ] &&
    [ ! -x "$(dirname "$RUNTIME")/hull-vsock" ]; then
    export HULL_VSOCK=$HULL_BUILD_DIR/runtime/vsock/hull-vsock
  fi
}

# setup helper: skips the test when the suite cannot run.
e2e_setup() {
  [ -z "${E2E_SKIP:-}" ] || skip "$E2E_SKIP"
}

# teardown_file helper: removes the suite's temp dir, refusing when a mount is
# still under it (that is a leak the suite reports).
e2e_teardown_file() {
  [ -n "${E2E_TMP:-}" ] && [ -d "$E2E_TMP" ] || return 0
  local m
  m=$(mounts_under "$E2E_TMP")
  if [ -n "$m" ]; then
    echo "mounts left under $E2E_TMP:" >&2
    echo "$m" >&2
    return 1
  fi
  if [ -n "${HULL_E2E_KEEP:-}" ]; then
    echo "# kept $E2E_TMP" >&3
  else
    rm -rf --one-file-system "$E2E_TMP"
  fi
}

# Mount points under DIR in this mount namespace (or in PID's, when given).
mounts_under() {
  local dir=$1 pid=${2:-self}
  awk -v p="$dir/" 'index($5, p) == 1 || $5 == substr(p, 1, length(p) - 1) {print $5}' \
    "/proc/$pid/mountinfo" 2>/dev/null
}

# Pids of processes whose command line, root or cwd mentions DIR (a container
# process, a monitor, a VM or a shim started for this suite). Zombies are left
# out: they hold nothing, and their parent (maybe init) reaps them.
processes_under() {
  local dir=$1 pid
  {
    grep -lsF -- "$dir" /proc/[0-9]*/cmdline | cut -d/ -f3
    find /proc -mindepth 2 -maxdepth 2 \( -name root -o -name cwd \) -lname "$dir/*" 2>/dev/null |
      cut -d/ -f3
  } | sort -u | while read -r pid; do
    [ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ] && continue
    [ -e "/proc/$pid" ] || continue
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] || echo "$pid"
  done
}

# Fails (with a listing) when a process or mount of DIR is left.
assert_nothing_left_under() {
  local dir=$1 procs mounts
  procs=$(processes_under "$dir")
  mounts=$(mounts_under "$dir")
  if [ -n "$procs" ] || [ -n "$mounts" ]; then
    echo "left behind under $dir:" >&2
    for p in $procs; do echo "  process $p: $({ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null)" >&2; done
    [ -z "$mounts" ] || echo "  mounts: $mounts" >&2
    return 1
  fi
}

# daemon_ready NAME PID LOG CHECK...: waits up to 60 s for the daemon PID to
# answer CHECK (its client asking its version), else prints LOG's last lines
# and fails. Then sets DAEMON_MNTNS to the daemon's mount namespace and holds
# it open as fd DAEMON_NSFD: that keeps its inode number from being reused by
# a new namespace after the daemon exits (which would make the leftover
# check, assert_nothing_in_mntns, see strangers).
# shellcheck disable=SC2034  # DAEMON_*: read by lib/containerd.bash and lib/docker.bash
daemon_ready() {
  local name=$1 pid=$2 log=$3
  shift 3
  if ! wait_for 60 "$@" >/dev/null 2>&1; then
    echo "$name did not come up; its log:" >&2
    tail -30 "$log" >&2
    return 1
  fi
  DAEMON_MNTNS=$(readlink "/proc/$pid/ns/mnt")
  exec {DAEMON_NSFD}<"/proc/$pid/ns/mnt"
}

# stop_daemon NAME PID: SIGTERM, then SIGKILL after 30 s, and reaps it; fails
# when it needed the SIGKILL.
stop_daemon() {
  local name=$1 pid=$2 i
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$name ($pid) ignored SIGTERM for 30 s; killing it" >&2
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null
    return 1
  fi
  wait "$pid" 2>/dev/null
  return 0
}

# Waits up to SECONDS (default 10) for a command to succeed.
wait_for() {
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 10; i++)); do
    "$@" && return 0
    sleep 0.1
  done
  "$@"
}

# pty_session CMD LINE...: runs the shell command line CMD on a pty made by
# script(1) and types each LINE into it, 2 s apart from 2 s on. The input
# stays open until CMD has returned (60 s at most): with a fixed end, a VM
# booting slowly on a busy host could see its session end first (a docker
# -it test failed so with two suites running). Prints the session; returns
# CMD's exit status.
pty_session() {
  local cmd=$1 ended line i
  shift
  ended=$(mktemp -u "$E2E_TMP/pty-ended.XXXXXX")
  (
    for line in "$@"; do
      sleep 2
      printf '%s\n' "$line"
    done
    for ((i = 0; i < 600; i++)); do
      [ -e "$ended" ] && break
      sleep 0.1
    done
  ) | timeout 60 script -qec "$cmd; rc=\$?; touch $ended; exit \$rc" /dev/null
}

# The busybox rootfs as an image tarball (`docker import`, `podman import`).
rootfs_tar() {
  tar --sort=name --numeric-owner --owner=0 --group=0 -C "$E2E_TMP/rootfs" -c .
}

# Removes the (empty) cgroup directories named NAME, and their children, that
# a daemon left in the cgroup hierarchies (docker's --cgroup-parent, a
# containerd namespace); fails when one cannot go because a process is in it.
remove_cgroups() {
  local name=$1 d rc=0
  while IFS= read -r d; do
    rmdir "$d" 2>/dev/null || { echo "cgroup left (busy): $d" >&2; rc=1; }
  done < <(find /sys/fs/cgroup -maxdepth 5 -depth -type d \( -path "*/$name" -o -path "*/$name/*" \) 2>/dev/null)
  return $rc
}

# Shell code for a container on a terminal: fails unless stdin and stdout are
# terminals and `tty` names one; prints "term-ok-42" (computed, so the echo of
# the typed command does not match it).
# shellcheck disable=SC2016,SC2034  # expands in the container; read by the .bats files
TTY_CHECK_SH='[ -t 0 ] && [ -t 1 ] && tty >/dev/null && echo term-ok-$((6*7))'
