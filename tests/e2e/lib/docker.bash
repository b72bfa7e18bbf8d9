# A private dockerd for tests/e2e/docker.bats (Debian's docker.io).
#
# Nothing of the system's docker or containerd is touched:
#   * --data-root, --exec-root, --pidfile, -H unix://, --config-file (and so
#     the trust key next to it) all live under $E2E_TMP/docker;
#   * --iptables=false --ip6tables=false --ip-masq=false --bridge=none: no
#     docker0, no firewall rules; containers get `none`/`host` networking only;
#   * --cgroup-parent /hull-e2e-docker instead of /docker, removed at the end;
#   * dockerd starts its own managed containerd (exec-root/containerd/, config
#     containerd.toml there) because no containerd answers on the default
#     socket inside its mount namespace, see next;
#   * dockerd runs in a private mount namespace with a tmpfs on /run, because
#     containerd 1.6 and its runc shim put shim sockets under
#     /run/containerd/s/ and fifos under /run/containerd/ whatever the state
#     dir says. Everything they mount (overlay rootfs, shm) also stays in
#     that namespace, which dies with dockerd.
# The runtime under test is added as `--add-runtime hull-e2e=$RUNTIME`.
#
# DOCKERD_NETNS=/run/netns/<name> (a namespace the suite made): dockerd, its
# containerd and shims run in that network namespace instead, with docker's
# default bridge (docker0 there) and the userland proxy for published ports;
# still no firewall rules and no masquerading.
# DOCKERD_EXTRA_ARGS: more dockerd flags (split on spaces), e.g. another
# --add-runtime.

DOCKER_CLI=/usr/bin/docker  # Debian's client (another may be first in PATH)
DOCKERD=/usr/sbin/dockerd
DOCKER_RUNTIME=hull-e2e

dk() {
  DOCKER_CONFIG=$DOCKER_DIR/cli "$DOCKER_CLI" -H "unix://$DOCKER_DIR/docker.sock" "$@"
}

# Starts dockerd, waits for its API and imports the busybox image as
# hull-e2e/busybox. Sets and exports DOCKER_DIR, DOCKERD_PID, DOCKERD_MNTNS.
start_dockerd() {
  DOCKER_DIR=$E2E_TMP/docker
  mkdir -p "$DOCKER_DIR/cli"
  echo '{}' >"$DOCKER_DIR/daemon.json"
  local net=(--iptables=false --ip6tables=false --ip-masq=false --bridge=none --userland-proxy=false)
  local enter=()
  if [ -n "${DOCKERD_NETNS:-}" ]; then
    net=(--iptables=false --ip6tables=false --ip-masq=false --userland-proxy=true)
    enter=(nsenter "--net=$DOCKERD_NETNS")
  fi
  # fd 3 closed: bats waits for every holder of it before finishing the file.
  # shellcheck disable=SC2086  # DOCKERD_EXTRA_ARGS is zero or more words
  "${enter[@]}" unshare --mount --propagation private -- sh -c 'mount -t tmpfs -o mode=755 tmpfs /run && exec "$@"' sh \
    "$DOCKERD" --config-file "$DOCKER_DIR/daemon.json" \
    --data-root "$DOCKER_DIR/data" --exec-root "$DOCKER_DIR/exec" \
    --pidfile "$DOCKER_DIR/docker.pid" -H "unix://$DOCKER_DIR/docker.sock" \
    "${net[@]}" \
    --storage-driver overlay2 --log-level warn --cgroup-parent /hull-e2e-docker \
    --add-runtime "$DOCKER_RUNTIME=$RUNTIME" ${DOCKERD_EXTRA_ARGS:-} \
    </dev/null >"$DOCKER_DIR/dockerd.log" 2>&1 3>&- &
  DOCKERD_PID=$!
  export DOCKER_DIR DOCKERD_PID
  daemon_ready dockerd "$DOCKERD_PID" "$DOCKER_DIR/dockerd.log" dk version || return 1
  export DOCKERD_MNTNS=$DAEMON_MNTNS DOCKERD_NSFD=$DAEMON_NSFD
  rootfs_tar | dk import - "$E2E_IMAGE" >/dev/null
}

# Removes every container, stops dockerd by its pid (SIGTERM, then SIGKILL
# after 30 s), and fails when anything it started is left: its managed
# containerd, a shim, a container process or a VM in its mount namespace.
stop_dockerd() {
  [ -n "${DOCKERD_PID:-}" ] || return 0
  local ids rc=0 cpid
  ids=$(dk ps -aq 2>/dev/null)
  # shellcheck disable=SC2086
  [ -z "$ids" ] || dk rm -f $ids >/dev/null 2>&1
  cpid=$(cat "$DOCKER_DIR/exec/containerd/containerd.pid" 2>/dev/null)
  stop_daemon dockerd "$DOCKERD_PID" || rc=1
  if [ -n "$cpid" ] && ! wait_for 10 bash -c "! kill -0 $cpid 2>/dev/null"; then
    echo "dockerd's containerd ($cpid) outlived it" >&2
    rc=1
  fi
  assert_nothing_in_mntns "$DOCKERD_MNTNS" || rc=1
  [ -z "${DOCKERD_NSFD:-}" ] || exec {DOCKERD_NSFD}<&-
  remove_cgroups hull-e2e-docker || rc=1
  DOCKERD_PID=
  return $rc
}

# The pids of PID's descendants, deepest first.
descendants_of() {
  local c
  # shellcheck disable=SC2013  # the files hold space-separated pids, no lines
  for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    descendants_of "$c"
    echo "$c"
  done
}

# Fails when a process still lives in mount namespace NS (e.g. "mnt:[4026532]"),
# and then kills it by pid with everything it started (a leftover shim's VM
# runs in mount namespaces of its own): a failed test leaves nothing running.
assert_nothing_in_mntns() {
  local ns=$1 p left='' pids=()
  [ -n "$ns" ] || return 0
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$ns" ] || continue
    [ "$(awk '{print $3}' "$p/stat" 2>/dev/null)" = Z ] && continue
    left+=" ${p#/proc/}($({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | cut -c1-80))"
    pids+=("${p#/proc/}")
  done
  [ -n "$left" ] || return 0
  echo "processes left in the daemon's mount namespace:$left (killed)" >&2
  for p in "${pids[@]}"; do
    # shellcheck disable=SC2046  # one pid per word
    kill -KILL $(descendants_of "$p") "$p" 2>/dev/null
  done
  return 1
}

# dk_run ARGS...: `docker run` with the runtime under test, labelled
# hull-e2e-test so that the test's teardown finds what it made.
dk_run() {
  dk run --runtime "$DOCKER_RUNTIME" --label hull-e2e-test "$@"
}

# Per-test cleanup: force-removes every container the test made (labelled by
# dk_run), even when the test failed half-way, so that one failure does not
# cascade into the next tests; stop_dockerd still fails on anything left.
dk_teardown() {
  [ -n "${DOCKERD_PID:-}" ] || return 0
  local ids
  ids=$(dk ps -aq --filter label=hull-e2e-test 2>/dev/null)
  [ -n "$ids" ] || return 0
  echo "# teardown: removing container(s) ${ids//$'\n'/ }" >&3
  # shellcheck disable=SC2086
  dk rm -f $ids >/dev/null 2>&1
}
