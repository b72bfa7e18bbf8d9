#!/usr/bin/env bats
# Networking through the runc-style CLI: the container's network namespace as
# the caller sets it up (docs/networking.md), checked with a veth pair between
# namespaces this suite creates; no traffic leaves them.
#
#   HULL_E2E_RUNTIME=/usr/sbin/runc bats tests/e2e/network.bats   (the reference)
#   bats tests/e2e/network.bats                                   (the built hull)
#
# The "peer" namespace holds the veth's other end at 10.231.$N.1 with a busybox
# httpd; the container gets 10.231.$N.2/24 and a default route through the
# peer, either from a prestart hook (what docker's libnetwork-setkey hook does:
# a spec without a namespace path) or in a namespace the test made (podman,
# CNI: a path). Tests of what only hull refuses skip with runc.

bats_require_minimum_version 1.5.0
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
  NET=$BATS_TEST_NUMBER
  PEER=hull-e2e-peer-$$-$NET
  CTR=hull-e2e-ctr-$$-$NET
  ip netns add "$PEER"
  ip -n "$PEER" link set lo up
  mkdir -p "$BUNDLE/www"
  echo "hello from the peer" >"$BUNDLE/www/index.html"
  # ping needs CAP_NET_RAW with runc's default ping_group_range
  update_config '.process.capabilities |= with_entries(.value += ["CAP_NET_RAW"])'
}
teardown() {
  local p
  for p in $(ip netns pids "$PEER" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
  cli_teardown
  ip netns del "$PEER" 2>/dev/null || true
  ip netns del "$CTR" 2>/dev/null || true
}

hull_only() {
  [ "$RUNTIME_NAME" = hull ] || skip "hull's refusal: $RUNTIME_NAME shares the namespace"
}

# The peer end up at 10.231.$NET.1/24 with an httpd on :8080.
peer_up() {
  ip -n "$PEER" addr add "10.231.$NET.1/24" dev peer0
  ip -n "$PEER" link set peer0 up
  nsenter --net="/run/netns/$PEER" busybox httpd -p "10.231.$NET.1:8080" -h "$BUNDLE/www"
}

# A namespace $CTR with eth0 (10.231.$NET.2/24, default via the peer) wired to
# the peer: what podman or a CNI plugin leaves before calling the runtime.
make_ctr_netns() {
  ip netns add "$CTR"
  ip -n "$CTR" link set lo up
  ip link add "ctr$NET" netns "$CTR" type veth peer name peer0 netns "$PEER"
  ip -n "$CTR" link set "ctr$NET" name eth0
  ip -n "$CTR" addr add "10.231.$NET.2/24" dev eth0
  ip -n "$CTR" link set eth0 up
  ip -n "$CTR" route add default via "10.231.$NET.1"
  peer_up
  # shellcheck disable=SC2016  # a jq program
  update_config '(.linux.namespaces[] | select(.type == "network")) |= . + {"path": $p}' \
    --arg p "/run/netns/$CTR"
}

# A prestart hook that does what docker's setkey hook has dockerd do: moves a
# veth end into the namespace of the state's pid as eth0 and configures it.
# eth0's alias is the namespace's id, as the hook read it: a process that
# cannot read /proc (the jailed QEMU) still shows where it runs.
add_setkey_like_hook() {
  cat >"$BUNDLE/setkey.sh" <<EOF
#!/bin/sh
set -e
pid=\$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
readlink /proc/\$pid/ns/net >"$BUNDLE/hook-saw-netns"
ip link add "ctr$NET" type veth peer name peer0 netns "$PEER"
ip link set "ctr$NET" netns "\$pid"
nsenter --net=/proc/\$pid/ns/net sh -c '
  ip link set ctr$NET name eth0 &&
  ip link set eth0 alias "\$(readlink /proc/self/ns/net)" &&
  ip addr add 10.231.$NET.2/24 dev eth0 &&
  ip link set eth0 up &&
  ip route add default via 10.231.$NET.1'
ip -n "$PEER" addr add "10.231.$NET.1/24" dev peer0
ip -n "$PEER" link set peer0 up
nsenter --net="/run/netns/$PEER" busybox httpd -p "10.231.$NET.1:8080" -h "$BUNDLE/www" </dev/null >/dev/null 2>&1
EOF
  chmod +x "$BUNDLE/setkey.sh"
  # shellcheck disable=SC2016  # a jq program
  update_config '.hooks.prestart = [{"path": $h, "timeout": 20}]' --arg h "$BUNDLE/setkey.sh"
}

# No tap, no ingress qdisc and the same interfaces in namespace $1 as in $2 (a
# listing taken before).
assert_netns_clean() {
  local ns=$1 before=$2 now
  now=$(ip -n "$ns" -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort)
  [ "$now" = "$before" ] || { echo "interfaces now: $now; before: $before" >&2; return 1; }
  if ip -n "$ns" -o link show | grep -q hulltap; then echo "a tap left in $ns" >&2; return 1; fi
  if tc -n "$ns" qdisc show | grep -q ingress; then echo "an ingress qdisc left in $ns" >&2; return 1; fi
}

@test "network: prestart hooks see the container's pid in a new network namespace, never the caller's" {
  set_args true
  add_setkey_like_hook
  rtd create -b "$BUNDLE" e2e-net-hookns
  [ -s "$BUNDLE/hook-saw-netns" ]
  [ "$(cat "$BUNDLE/hook-saw-netns")" != "$(readlink /proc/self/ns/net)" ]
  [ "$(cat "$BUNDLE/hook-saw-netns")" != "$(readlink /proc/1/ns/net)" ]
  # what the hook moved went there, not into this namespace
  run ! ip link show "ctr$NET"
  rt delete -f e2e-net-hookns
  assert_no_state
}

@test "network: QEMU starts in the namespace the hook configured, wired to its veth (no guest needed)" {
  hull_only
  set_args true
  add_setkey_like_hook
  # A stand-in for QEMU records what it was started with and where, then fails.
  # It runs as QEMU does, in the jail (docs/security.md): the jail user, a root
  # with /usr only, no /proc, nowhere to write. So it reports on its output,
  # whose tail is in the error of create, one line per fact.
  cat >"$BUNDLE/qemu.sh" <<'EOF'
#!/bin/sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin
echo "args: $*"
echo "whoami: $(id -u) proc: $(test -e /proc/self && echo yes || echo no)"
ip -o link show eth0
ip -o link show hulltap0
tc filter show dev eth0 ingress | grep -o 'mirred (Egress Redirect to device [a-z0-9]*)'
echo "ingress qdiscs: $(tc qdisc show | grep -c 'qdisc ingress ffff:')"
exit 1
EOF
  chmod 0755 "$BUNDLE/qemu.sh"
  jq --arg q "$BUNDLE/qemu.sh" '.hypervisor.path = $q' "${HULL_CONFIG:-/dev/null}" >"$BUNDLE/hull.json" 2>/dev/null &&
    [ -s "$BUNDLE/hull.json" ] ||
    jq -n --arg q "$BUNDLE/qemu.sh" '{"hypervisor": {"path": $q}}' >"$BUNDLE/hull.json"
  run env HULL_CONFIG="$BUNDLE/hull.json" "$RUNTIME" --root "$E2E_TMP/root" create -b "$BUNDLE" e2e-net-wired </dev/null
  echo "$output"
  [ "$status" -ne 0 ]
  # QEMU ran jailed: as the jail user, without /proc
  [[ $output == *"whoami: $(id -u hull) proc: no"* ]]
  # the hook and QEMU saw the same namespace (its eth0 carries the id the hook
  # read there), a new one
  grep "eth0" <<<"$output" | grep -qF "alias $(cat "$BUNDLE/hook-saw-netns")"
  [ "$(cat "$BUNDLE/hook-saw-netns")" != "$(readlink /proc/self/ns/net)" ]
  grep -q -- "-netdev tap,id=net0,fd=3,vhost=" <<<"$output"
  grep -q -- "-device virtio-net-device,netdev=net0,mac=.*,host_mtu=1500" <<<"$output"
  grep -q "hulltap0: .*UP" <<<"$output"
  grep -q "mirred (Egress Redirect to device hulltap0)" <<<"$output"
  grep -q "ingress qdiscs: 2" <<<"$output"
  assert_no_state
  run ! grep -q hulltap < <(ip -o link show)
}

@test "network: a namespace set up by the prestart hook (docker's way): address, route, ping, http" {
  add_setkey_like_hook
  set_args sh -c "ip -4 addr show eth0 | grep -o 'inet [0-9./]*'; ip route | grep default;
    ping -c 1 -W 10 10.231.$NET.1 >/dev/null && echo ping-ok;
    wget -q -O - http://10.231.$NET.1:8080/index.html"
  run rt run -b "$BUNDLE" e2e-net-setkey
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"inet 10.231.$NET.2/24"* ]]
  [[ $output == *"default via 10.231.$NET.1 dev eth0"* ]]
  [[ $output == *ping-ok* ]]
  [[ $output == *"hello from the peer"* ]]
  assert_no_state
}

@test "network: a namespace path (podman, CNI): used as is, ping and TCP both ways, left as it was" {
  make_ctr_netns
  local before
  before=$(ip -n "$CTR" -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort)
  set_args sh -c "echo hello from the container >/tmp/index.html; httpd -p 8081 -h /tmp;
    wget -q -O - http://10.231.$NET.1:8080/index.html; sleep 1000"
  rtd create -b "$BUNDLE" e2e-net-path
  rt start e2e-net-path
  # container -> peer (its output is in the log of the detached run, so check
  # the other way round too): peer -> container
  wait_for 60 nsenter --net="/run/netns/$PEER" busybox wget -q -O - "http://10.231.$NET.2:8081/index.html"
  run nsenter --net="/run/netns/$PEER" busybox wget -q -O - "http://10.231.$NET.2:8081/index.html"
  [ "$output" = "hello from the container" ]
  run rt exec e2e-net-path wget -q -O - "http://10.231.$NET.1:8080/index.html"
  [ "$output" = "hello from the peer" ]
  rt exec e2e-net-path ping -c 1 -W 10 "10.231.$NET.1"
  nsenter --net="/run/netns/$PEER" busybox ping -c 1 -W 10 "10.231.$NET.2"
  run rt exec e2e-net-path sh -c "ip -4 addr show eth0 | grep -o 'inet [0-9./]*'; ip route"
  [[ $output == *"inet 10.231.$NET.2/24"* ]]
  [[ $output == *"default via 10.231.$NET.1 dev eth0"* ]]
  rt delete -f e2e-net-path
  assert_no_state
  assert_netns_clean "$CTR" "$before"
  ip -n "$CTR" -4 addr show eth0 | grep -q "10.231.$NET.2/24"  # the namespace keeps its address
}

@test "network: an empty new network namespace: loopback only" {
  set_args sh -c 'ls /sys/class/net | tr "\n" " "'
  run rt run -b "$BUNDLE" e2e-net-none
  [ "$status" -eq 0 ]
  [ "$output" = "lo " ]
}

@test "network: no network namespace in the spec (the caller's, as --network host) is refused, nothing left" {
  hull_only  # runc without a network namespace shares the caller's
  update_config '.linux.namespaces |= map(select(.type != "network"))'
  run rtd create -b "$BUNDLE" e2e-net-nonens
  [ "$status" -ne 0 ]
  [[ $output == *"would share the network namespace of hull's caller"*"needs a namespace of its own"* ]]
  assert_no_state
}

@test "network: the host's namespace as path is refused, nothing left" {
  hull_only
  for p in /proc/1/ns/net /proc/self/ns/net; do
    # shellcheck disable=SC2016  # a jq program
  update_config '(.linux.namespaces[] | select(.type == "network")) |= . + {"path": $p}' --arg p "$p"
    run rtd create -b "$BUNDLE" e2e-net-host
    [ "$status" -ne 0 ]
    [[ $output == *"is the host's own"*"needs a namespace of its own"* ]]
    assert_no_state
  done
  run ! grep -q hulltap < <(ip -o link show)
}

@test "network: another process's namespace (container:X) is refused, nothing left" {
  hull_only
  # what docker and podman give for --network container:X: /proc/<X's pid>/ns/net
  unshare -n sleep 1000 3>&- &
  local xpid=$!
  wait_for 10 bash -c "[ \"\$(readlink /proc/$xpid/ns/net)\" != \"\$(readlink /proc/self/ns/net)\" ]"
  # shellcheck disable=SC2016  # a jq program
  update_config '(.linux.namespaces[] | select(.type == "network")) |= . + {"path": $p}' \
    --arg p "/proc/$xpid/ns/net"
  run rtd create -b "$BUNDLE" e2e-net-y
  kill -KILL "$xpid"
  wait "$xpid" || true
  [ "$status" -ne 0 ]
  [[ $output == *"namespace of process $xpid"*"container:X"* ]]
  assert_no_state
}

@test "network: QEMU killed while traffic flows: the taps and filters go with the container" {
  hull_only
  make_ctr_netns
  local before
  before=$(ip -n "$CTR" -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort)
  set_args sh -c "while :; do wget -q -O /dev/null http://10.231.$NET.1:8080/index.html; done"
  rtd create -b "$BUNDLE" e2e-net-kill
  rt start e2e-net-kill
  ip -n "$CTR" -o link show | grep -q hulltap
  tc -n "$CTR" qdisc show dev eth0 | grep -q ingress
  sleep 2
  local qemu
  qemu=$(jq -r '.hull.procs[] | select(.name == "qemu") | .pid' "$E2E_TMP/root/e2e-net-kill/state.json")
  [ -n "$qemu" ] && kill -KILL "$qemu"
  wait_for_status e2e-net-kill stopped 60
  rt delete e2e-net-kill
  assert_no_state
  assert_netns_clean "$CTR" "$before"
}

# The namespace hull made for a container (a spec without a path: docker's
# way) after SIGKILL of PROCS (monitor, qemu, or both) and `delete -f`:
# nothing lives in it or holds it any more, so it is gone, and the veth the
# hook moved in went with it (its peer in $PEER too); no tap anywhere.
kill_and_delete_with_made_netns() {
  local procs=$1 id=e2e-net-made-$BATS_TEST_NUMBER ns p pid
  add_setkey_like_hook
  set_args sh -c "while :; do wget -q -O /dev/null http://10.231.$NET.1:8080/index.html; done"
  rtd create -b "$BUNDLE" "$id"
  rt start "$id"
  ns=$(cat "$BUNDLE/hook-saw-netns")
  [[ $ns == net:\[* ]]
  ip -n "$PEER" link show peer0
  sleep 2
  for p in $procs; do
    if [ "$p" = monitor ]; then
      pid=$(state_field "$id" pid)
    else
      pid=$(jq -r ".hull.procs[] | select(.name == \"$p\") | .pid" "$E2E_TMP/root/$id/state.json")
    fi
    [ -n "$pid" ] && [ "$pid" -gt 0 ]
    kill -KILL "$pid"
  done
  rt delete -f "$id"
  assert_no_state
  # no process is left in the namespace, no bind mount holds it
  local left=''
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/ns/net" 2>/dev/null)" = "$ns" ] && left+=" ${p#/proc/}"
  done
  [ -z "$left" ] || { echo "processes left in $ns:$left" >&2; return 1; }
  run ! grep -qF "$ns" /proc/self/mountinfo
  # so the namespace is gone, and the veth with it
  wait_for 10 bash -c "! ip -n $PEER link show peer0 >/dev/null 2>&1"
  run ! grep -q hulltap < <(ip -o link show)
}

@test "network: a namespace hull made does not outlive a SIGKILLed monitor and QEMU" {
  hull_only
  kill_and_delete_with_made_netns "monitor qemu"
}

@test "network: a namespace hull made does not outlive a SIGKILLed monitor (QEMU still running)" {
  hull_only
  kill_and_delete_with_made_netns monitor
}

@test "network: an interface that vanishes while the VM boots: a clear error, nothing left" {
  hull_only
  make_ctr_netns
  set_args true
  # QEMU starts in the namespace after hull wired eth0; then eth0 goes (what a
  # hook or the network's owner racing hull would do). QEMU runs jailed, with
  # no privilege to delete it: this stand-in marks its start in its log, and
  # the test, as the network's owner, deletes eth0 at that mark.
  local qemu owner
  qemu=$(jq -r '.hypervisor.path // empty' "${HULL_CONFIG:-/dev/null}" 2>/dev/null || true)
  printf '#!/bin/sh\ncase " $* " in *" -netdev "*) echo hull-e2e-qemu-starts ;; esac\nexec %s "$@"\n' \
    "${qemu:-/usr/bin/qemu-system-x86_64}" >"$BUNDLE/qemu.sh"
  chmod 0755 "$BUNDLE/qemu.sh"
  jq --arg q "$BUNDLE/qemu.sh" '.hypervisor.path = $q' "${HULL_CONFIG:-/dev/null}" >"$BUNDLE/hull.json" 2>/dev/null &&
    [ -s "$BUNDLE/hull.json" ] ||
    jq -n --arg q "$BUNDLE/qemu.sh" '{"hypervisor": {"path": $q}}' >"$BUNDLE/hull.json"
  (
    for _ in $(seq 1200); do
      if find "$E2E_TMP/root" -name qemu.log -exec grep -l hull-e2e-qemu-starts {} + 2>/dev/null | grep -q .; then
        exec ip -n "$CTR" link del eth0
      fi
      sleep 0.05
    done
    echo "QEMU did not start within 60 s" >&2
  ) </dev/null &
  owner=$!
  HULL_CONFIG="$BUNDLE/hull.json" run rtd create -b "$BUNDLE" e2e-net-vanish
  echo "$output"
  kill "$owner" 2>/dev/null || true
  wait "$owner" || true
  assert_runc_error "interface eth0 \(index [0-9]+\) vanished from network namespace /run/netns/$CTR \(net:\[[0-9]+\]\) while the VM booted: .*create the container again"
  assert_no_state
  [ -z "$(processes_under "$E2E_TMP/root")" ]
  # the namespace holds what it had, less eth0: no tap, no qdisc
  [ "$(ip -n "$CTR" -o link show | awk -F': ' '{print $2}')" = lo ]
  run ! grep -q ingress < <(tc -n "$CTR" qdisc show)
}
