#!/usr/bin/env bats
# Docker's networks with the runtime under test: a private dockerd
# (lib/docker.bash) started INSIDE a network namespace this suite creates,
# with docker's default bridge there, so every address, bridge, veth and
# server lives in that namespace and no traffic leaves it.
#
#   HULL_E2E_RUNTIME=/usr/sbin/runc bats tests/e2e/docker-network.bats   (the reference)
#   bats tests/e2e/docker-network.bats                                   (the built hull)
#
# After each test: no container, VM or tap is left, and the namespace's
# interfaces are the ones it had before the test.

bats_require_minimum_version 1.5.0
load lib/common
load lib/cli
load lib/docker

setup_file() {
  e2e_setup_file || return 1
  [ -z "$E2E_SKIP" ] || return 0
  DKNS=hull-e2e-dk-$$
  ip netns add "$DKNS"
  ip -n "$DKNS" link set lo up
  export DKNS DOCKERD_NETNS=/run/netns/$DKNS
  if [ "$RUNTIME_NAME" = hull ]; then
    # hull with a stand-in for QEMU that reports where it started and with
    # what, then fails: docker's side of the wiring, checked without a guest.
    # It runs jailed as QEMU does (docs/security.md: the jail user, a root
    # with /usr only, no /proc, no /etc and so no awk, nowhere to write), so
    # it reports on its output, whose tail is in create's error, one line per
    # fact.
    cat >"$E2E_TMP/qemu-standin" <<'EOF'
#!/bin/sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin
echo "args: $*"
echo "links: $(ip -o link | cut -d: -f2 | sed 's/@.*//; s/ //g' | tr '\n' ' ')"
echo "eth0: $(ip -o -4 addr show eth0 | sed 's/.* inet \([^ ]*\) .*/\1/')"
echo "route: $(ip route | grep '^default')"
echo "filter: $(tc filter show dev eth0 ingress | grep -o 'mirred (Egress Redirect to device [a-z0-9]*)')"
exit 1
EOF
    printf '{"hypervisor": {"path": "%s"}}\n' "$E2E_TMP/qemu-standin" >"$E2E_TMP/standin.json"
    printf '#!/bin/sh\nHULL_CONFIG=%s exec %s "$@"\n' "$E2E_TMP/standin.json" "$RUNTIME" \
      >"$E2E_TMP/hull-standin"
    chmod 0755 "$E2E_TMP/qemu-standin" "$E2E_TMP/hull-standin"
    export DOCKERD_EXTRA_ARGS="--add-runtime hull-standin=$E2E_TMP/hull-standin"
  fi
  start_dockerd
  mkdir -p "$E2E_TMP/www"
  echo "hello from the gateway" >"$E2E_TMP/www/index.html"
  wait_for 30 ip -n "$DKNS" -4 addr show docker0 >/dev/null 2>&1 || true
}
teardown_file() {
  local rc=0 p
  stop_dockerd || rc=1
  if [ -n "${DKNS:-}" ]; then
    for p in $(ip netns pids "$DKNS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    ip netns del "$DKNS" 2>/dev/null || true
  fi
  e2e_teardown_file || rc=1
  return $rc
}
setup() {
  e2e_setup
  LINKS_BEFORE=$(dkns_links)
}
teardown() {
  [ -n "${E2E_SKIP:-}" ] && return 0
  dk_teardown
  local n
  for n in $(dk network ls -q --filter label=hull-e2e-test 2>/dev/null); do dk network rm "$n" >/dev/null; done
  assert_dkns_clean
}

in_dkns() { nsenter --net="/run/netns/$DKNS" "$@"; }

# The namespace's interfaces by name (docker's veths come and go with containers).
dkns_links() {
  ip -n "$DKNS" -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
}

# Processes left in dockerd's mount namespace that are VMs (QEMU).
vms_left() {
  local p
  for p in /proc/[0-9]*; do
    # shellcheck disable=SC2153  # lib/docker.bash sets it
    [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$DOCKERD_MNTNS" ] || continue
    case "$(cat "$p/comm" 2>/dev/null)" in qemu-system*) echo "${p#/proc/}" ;; esac
  done
}

assert_dkns_clean() {
  local now
  # shellcheck disable=SC2016  # expanded by the inner bash
  wait_for 20 bash -c '[ "$(ip -n "$0" -o link show | grep -c veth)" -eq 0 ]' "$DKNS" || true
  now=$(dkns_links)
  [ "$now" = "$LINKS_BEFORE" ] || { echo "interfaces now: $now; before: $LINKS_BEFORE" >&2; return 1; }
  if ip -n "$DKNS" -o link show | grep -q hulltap; then echo "a tap left in $DKNS" >&2; return 1; fi
  [ -z "$(vms_left)" ] || { echo "VMs left: $(vms_left)" >&2; return 1; }
  [ -z "$(dk ps -aq)" ]
}

gateway() { ip -n "$DKNS" -4 -o addr show docker0 | awk '{print $4}' | cut -d/ -f1; }

@test "docker network: docker's setkey hook configures the monitor's new namespace, which hull wires (no guest needed)" {
  [ "$RUNTIME_NAME" = hull ] || skip "hull's wiring"
  run dk run --runtime hull-standin --rm "$E2E_IMAGE" true
  echo "$output"
  [ "$status" -ne 0 ]
  local gw links
  gw=$(gateway)
  # the container's namespace: eth0 and hull's tap, not dockerd's (docker0)
  # nor the host's (no hulltap0 there)
  links=$(grep -o 'links: .*' <<<"$output")
  [[ $links == *" eth0 "* && $links == *" hulltap0 "* && $links != *docker0* ]]
  grep -q "eth0: ${gw%.*}\.[0-9]*/16" <<<"$output"
  grep -q "route: default via $gw dev eth0" <<<"$output"
  grep -q "filter: mirred (Egress Redirect to device hulltap0)" <<<"$output"
  grep -q -- "-netdev tap,id=net0,fd=3,vhost=" <<<"$output"
  grep -q -- "-device virtio-net-device,netdev=net0,mac=02:42:ac:11:00:0[0-9a-f],host_mtu=1500" \
    <<<"$output"
}

@test "docker network: default bridge: eth0 has docker's address and default route, as with runc" {
  local gw hull runc
  gw=$(gateway)
  [ -n "$gw" ]
  hull=$(dk_run --rm "$E2E_IMAGE" sh -c 'ip -4 addr show eth0 | grep inet; ip route')
  runc=$(dk run --runtime runc --rm "$E2E_IMAGE" sh -c 'ip -4 addr show eth0 | grep inet; ip route')
  echo "$RUNTIME_NAME:" >&3
  # shellcheck disable=SC2001  # every line, not one substitution
  sed 's/^/#   /' <<<"$hull" >&3
  echo "runc:" >&3
  # shellcheck disable=SC2001  # every line, not one substitution
  sed 's/^/#   /' <<<"$runc" >&3
  [[ $hull == *"inet ${gw%.*}."* ]]
  [[ $hull == *"default via $gw dev eth0"* ]]
  [ "$hull" = "$runc" ]
}

@test "docker network: a page from an httpd on the bridge's gateway address" {
  local gw
  gw=$(gateway)
  # In the foreground (-f), so that $! is the server itself (nsenter execs it;
  # in_dkns in the background would be a subshell, and the server outlive its kill).
  nsenter --net="/run/netns/$DKNS" busybox httpd -f -p "$gw:8081" -h "$E2E_TMP/www" &
  local srv=$!
  # shellcheck disable=SC2016  # expanded by the inner bash
  wait_for 10 bash -c 'nsenter --net="/run/netns/$0" busybox wget -q -O /dev/null "http://$1:8081/index.html"' "$DKNS" "$gw" || true
  run dk_run --rm "$E2E_IMAGE" wget -q -O - "http://$gw:8081/index.html"
  kill "$srv"
  wait "$srv" || true
  [ "$status" -eq 0 ]
  [ "$output" = "hello from the gateway" ]
}

@test "docker network: -p 8080:80 answers from the test's namespace" {
  dk_run -d -p 8080:80 --name e2e-web "$E2E_IMAGE" \
    sh -c 'echo hello from the container >/tmp/index.html; exec httpd -f -p 80 -h /tmp'
  wait_for 60 in_dkns busybox wget -q -O /dev/null http://127.0.0.1:8080/index.html
  run in_dkns busybox wget -q -O - http://127.0.0.1:8080/index.html
  [ "$output" = "hello from the container" ]
  run in_dkns busybox wget -q -O - "http://$(gateway):8080/index.html"
  [ "$output" = "hello from the container" ]
  dk rm -f e2e-web
}

@test "docker network: two containers on a user-defined network reach each other by IP" {
  dk network create --label hull-e2e-test e2e-net >/dev/null
  dk_run -d --network e2e-net --name e2e-a "$E2E_IMAGE" \
    sh -c 'echo hello from a >/tmp/index.html; exec httpd -f -p 80 -h /tmp'
  local ip
  ip=$(dk inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' e2e-a)
  [ -n "$ip" ]
  run dk_run --rm --network e2e-net "$E2E_IMAGE" sh -c \
    "for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://$ip/index.html && exit 0; sleep 1; done; exit 1"
  [ "$status" -eq 0 ]
  [ "$output" = "hello from a" ]
  dk rm -f e2e-a
}

@test "docker network: two containers on a user-defined network reach each other by name" {
  dk network create --label hull-e2e-test e2e-net >/dev/null
  dk_run -d --network e2e-net --name e2e-b "$E2E_IMAGE" \
    sh -c 'echo hello from b >/tmp/index.html; exec httpd -f -p 80 -h /tmp'
  run dk_run --rm --network e2e-net "$E2E_IMAGE" sh -c \
    "for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://e2e-b/index.html && exit 0; sleep 1; done; exit 1"
  [ "$status" -eq 0 ]
  [ "$output" = "hello from b" ]
  dk rm -f e2e-b
}

@test "docker network: monitor and QEMU SIGKILLed: docker's cleanup and hull's delete leave nothing" {
  [ "$RUNTIME_NAME" = hull ] || skip "hull's monitor and VM"
  local gw monitor qemu ns p left
  gw=$(gateway)
  dk_run -d --name e2e-kill "$E2E_IMAGE" sh -c "while :; do wget -q -O /dev/null http://$gw/ 2>/dev/null; sleep 0.1; done"
  monitor=$(dk inspect -f '{{.State.Pid}}' e2e-kill)
  [ "$monitor" -gt 0 ]
  # the namespace hull made for the container (the spec has no path: docker's bridge)
  ns=$(readlink "/proc/$monitor/ns/net")
  [ "$ns" != "$(readlink "/proc/$DOCKERD_PID/ns/net")" ]
  qemu=$(ps -o pid= -o comm= --ppid "$monitor" | awk '$2 ~ /^qemu-system/ {print $1}')
  [ -n "$qemu" ]
  kill -KILL "$monitor" "$qemu"
  # shellcheck disable=SC2016  # expanded by the inner bash
  wait_for 60 bash -c '[ "$("$0" -H "unix://$1/docker.sock" inspect -f "{{.State.Running}}" e2e-kill)" = false ]' \
    "$DOCKER_CLI" "$DOCKER_DIR"
  dk rm -f e2e-kill
  # nothing lives in the namespace and nothing (docker's bind mount) holds it
  left=''
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/ns/net" 2>/dev/null)" = "$ns" ] && left+=" ${p#/proc/}"
  done
  [ -z "$left" ] || { echo "processes left in $ns:$left" >&2; return 1; }
  run ! grep -qF "$ns" "/proc/$DOCKERD_PID/mountinfo"
  # and no sandbox directory of hull's is left in dockerd's mount namespace
  run ! grep -q "/sandboxes/" "/proc/$DOCKERD_PID/mountinfo"
}

@test "docker network: --network none has only lo" {
  run dk_run --rm --network none "$E2E_IMAGE" sh -c 'ls /sys/class/net | tr "\n" " "'
  [ "$status" -eq 0 ]
  [ "$output" = "lo " ]
}

@test "docker network: --network host fails with hull's message" {
  [ "$RUNTIME_NAME" = hull ] || skip "$RUNTIME_NAME shares the host's namespace"
  run dk_run --rm --network host "$E2E_IMAGE" true
  [ "$status" -ne 0 ]
  [[ $output == *"is the host's own"*"needs a namespace of its own"* ]]
}

@test "docker network: --network container:X fails with hull's message" {
  [ "$RUNTIME_NAME" = hull ] || skip "$RUNTIME_NAME shares X's namespace"
  dk_run -d --name e2e-x "$E2E_IMAGE" sleep 1000
  run dk_run --rm --network container:e2e-x "$E2E_IMAGE" true
  [ "$status" -ne 0 ]
  [[ $output == *"(docker/podman --network container:X)"* ]]
  dk rm -f e2e-x
}
