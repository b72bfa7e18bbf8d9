#!/usr/bin/env bats
# Podman's networks with the runtime under test: podman (CNI backend, Debian's
# podman 4.3 and containernetworking-plugins), conmon and the runtime run
# INSIDE a network namespace this suite creates (lib/podman.bash with
# PODMAN_NETNS), on a bridge the suite made there, so every address, veth and
# server lives in that namespace and no traffic leaves it.
#
#   HULL_E2E_RUNTIME=/usr/sbin/runc bats tests/e2e/podman-network.bats   (the reference)
#   bats tests/e2e/podman-network.bats                                   (the built hull)
#
# The namespace holds the bridge $PODMAN_BRIDGE at $PODMAN_SUBNET.1/24 (CNI's
# bridge plugin takes it over as the gateway of podman's default network) and,
# in the tests that need one, a busybox httpd on that address. After each
# test: no container, VM, tap or podman network namespace is left, and the
# namespace's interfaces are the ones it had before the test.

# The single-quoted sh -c programs in this file expand in the container:
# shellcheck disable=SC2016
bats_require_minimum_version 1.5.0
load lib/common
load lib/cli
load lib/podman

setup_file() {
  e2e_setup_file || return 1
  [ -z "$E2E_SKIP" ] || return 0
  PMNS=hull-e2e-pm-$$
  PODMAN_BRIDGE=hull-e2e-pm0
  PODMAN_SUBNET=10.232.0
  export PMNS PODMAN_BRIDGE PODMAN_SUBNET PODMAN_NETNS=/run/netns/$PMNS
  ip netns add "$PMNS"
  ip -n "$PMNS" link set lo up
  ip -n "$PMNS" link add "$PODMAN_BRIDGE" type bridge
  ip -n "$PMNS" addr add "$PODMAN_SUBNET.1/24" dev "$PODMAN_BRIDGE"
  ip -n "$PMNS" link set "$PODMAN_BRIDGE" up
  mkdir -p "$E2E_TMP/www"
  echo "hello from the gateway" >"$E2E_TMP/www/index.html"
  setup_podman
}
teardown_file() {
  local rc=0 p
  [ -n "${E2E_SKIP:-}" ] || teardown_podman || rc=1
  if [ -n "${PMNS:-}" ]; then
    for p in $(ip netns pids "$PMNS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    ip netns del "$PMNS" 2>/dev/null || true
  fi
  e2e_teardown_file || rc=1
  return $rc
}
setup() {
  e2e_setup
  LINKS_BEFORE=$(pmns_links)
  SRV='' CTR=''
}
teardown() {
  [ -n "${E2E_SKIP:-}" ] && return 0
  pm_teardown
  if [ -n "$SRV" ]; then
    kill "$SRV" 2>/dev/null || true
    wait "$SRV" 2>/dev/null || true
  fi
  [ -z "$CTR" ] || ip netns del "$CTR" 2>/dev/null || true
  assert_pmns_clean
}

in_pmns() { nsenter --net="$PODMAN_NETNS" "$@"; }

# The namespace's interfaces by name (CNI's veths come and go with containers).
pmns_links() {
  ip -n "$PMNS" -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
}

assert_pmns_clean() {
  local now
  # shellcheck disable=SC2016  # expanded by the inner bash
  wait_for 20 bash -c '[ "$(ip -n "$0" -o link show | grep -c veth)" -eq 0 ]' "$PMNS" || true
  now=$(pmns_links)
  [ "$now" = "$LINKS_BEFORE" ] || { echo "interfaces now: $now; before: $LINKS_BEFORE" >&2; return 1; }
  if ip -n "$PMNS" -o link show | grep -q hulltap; then echo "a tap left in $PMNS" >&2; return 1; fi
  # no process (conmon, a VM), mount or cni-* namespace of podman's left
  wait_for 20 podman_holder_clean 2>/dev/null || podman_holder_clean
  [ -z "$(pm ps -aq)" ]
  # and no other process in the namespace (a server the test started)
  local left
  left=$(ip netns pids "$PMNS" | grep -vx "$PODMAN_HOLDER_PID" || true)
  [ -z "$left" ] || { echo "processes left in $PMNS: $left" >&2; return 1; }
}

# A busybox httpd on the gateway address, in the foreground (-f) so that $SRV
# is the server itself (nsenter execs it; a function run in the background
# would be a subshell whose pid is not the server's); teardown stops it by that pid.
start_httpd() {
  nsenter --net="$PODMAN_NETNS" busybox httpd -f -p "$PODMAN_SUBNET.1:8081" -h "$E2E_TMP/www" 3>&- &
  SRV=$!
  wait_for 10 in_pmns busybox wget -q -O /dev/null "http://$PODMAN_SUBNET.1:8081/index.html"
}

@test "podman network: --network bridge: eth0 has CNI's address and the default route" {
  run pm_run --rm --network bridge "$E2E_IMAGE" sh -c \
    'ip -4 addr show eth0 | grep -o "inet [0-9./]*"; ip route | grep default; ls /sys/class/net | tr "\n" " "'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"inet $PODMAN_SUBNET."*"/24"* ]]
  [[ $output == *"default via $PODMAN_SUBNET.1 dev eth0"* ]]
  [[ $output == *"eth0 lo "* ]]
}

@test "podman network: a page from an httpd on the bridge's gateway, and one served to the namespace" {
  start_httpd
  run pm_run --rm --network bridge "$E2E_IMAGE" wget -q -O - "http://$PODMAN_SUBNET.1:8081/index.html"
  [ "$status" -eq 0 ]
  [ "$output" = "hello from the gateway" ]
  pm_run -d --name e2e-web "$E2E_IMAGE" \
    sh -c 'echo hello from the container >/tmp/index.html; exec httpd -f -p 80 -h /tmp' >/dev/null
  local ip
  ip=$(pm inspect -f '{{.NetworkSettings.IPAddress}}' e2e-web)
  [[ $ip == "$PODMAN_SUBNET".* ]]
  wait_for 60 in_pmns busybox wget -q -O /dev/null "http://$ip/index.html"
  run in_pmns busybox wget -q -O - "http://$ip/index.html"
  [ "$output" = "hello from the container" ]
  in_pmns busybox ping -c 1 -W 10 "$ip"
  pm rm -f -t 0 e2e-web
}

@test "podman network: --network none has only lo" {
  run pm_run --rm --network none "$E2E_IMAGE" sh -c 'ls /sys/class/net | tr "\n" " "'
  [ "$status" -eq 0 ]
  [ "$output" = "lo " ]
}

@test "podman network: --network ns:<path> is used as is, and left as it was" {
  # What `ip netns` or a CNI plugin outside podman leaves: eth0 at
  # $PODMAN_SUBNET.250 (outside podman's range), its peer a port of the bridge.
  CTR=hull-e2e-pmctr-$$
  ip netns add "$CTR"
  ip -n "$CTR" link set lo up
  ip link add pmctr0 netns "$PMNS" type veth peer name eth0 netns "$CTR"
  ip -n "$PMNS" link set pmctr0 master "$PODMAN_BRIDGE" up
  ip -n "$CTR" addr add "$PODMAN_SUBNET.250/24" dev eth0
  ip -n "$CTR" link set eth0 up
  ip -n "$CTR" route add default via "$PODMAN_SUBNET.1"
  local before
  before=$(ip -n "$CTR" -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort)
  start_httpd
  run pm_run --rm --network "ns:/run/netns/$CTR" "$E2E_IMAGE" sh -c \
    "ip -4 addr show eth0 | grep -o 'inet [0-9./]*'; wget -q -O - http://$PODMAN_SUBNET.1:8081/index.html"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"inet $PODMAN_SUBNET.250/24"* ]]
  [[ $output == *"hello from the gateway"* ]]
  # the namespace is as it was: no tap, no ingress qdisc, eth0 keeps its address
  [ "$(ip -n "$CTR" -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort)" = "$before" ]
  run ! grep -q ingress < <(tc -n "$CTR" qdisc show)
  ip -n "$CTR" -4 addr show eth0 | grep -q "$PODMAN_SUBNET.250/24"
}

@test "podman network: --network container:X fails with hull's message, X keeps working" {
  [ "$RUNTIME_NAME" = hull ] || skip "$RUNTIME_NAME shares X's namespace"
  start_httpd
  pm_run -d --name e2e-x "$E2E_IMAGE" sleep 1000 >/dev/null
  run pm_run --rm --network container:e2e-x "$E2E_IMAGE" true
  echo "$output"
  [ "$status" -ne 0 ]
  # podman names X's namespace as /proc/<X's pid>/ns/net
  [[ $output == *"(docker/podman --network container:X)"*"needs a namespace of its own"* ]]
  run pm exec e2e-x wget -q -O - "http://$PODMAN_SUBNET.1:8081/index.html"
  [ "$output" = "hello from the gateway" ]
  pm rm -f -t 0 e2e-x
}

@test "podman network: --network host is refused with hull's message" {
  [ "$RUNTIME_NAME" = hull ] || skip "$RUNTIME_NAME shares the host's namespace"
  # podman leaves the network entry out of the spec: the caller's namespace
  run pm_run --rm --network host "$E2E_IMAGE" true
  echo "$output"
  [ "$status" -ne 0 ]
  [[ $output == *"podman --network host"*"needs a namespace of its own"* ]]
}

@test "podman network: no container left" {
  [ -z "$(pm ps -aq)" ]
}
