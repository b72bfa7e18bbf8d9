#!/usr/bin/env bats
# The runtime binary, as runc's own integration tests drive it (lib/cli.bash):
# cgroup limits and update, devices, events and stats, cgroupsPath, the
# cgroup namespace and the VM's size.
#
#   HULL_E2E_RUNTIME=/usr/sbin/runc bats tests/e2e/cli-resources.bats   (the reference)
#   bats tests/e2e/cli-resources.bats                                   (the built hull)

# Single-quoted programs (sh -c, jq) expand in the container or in jq:
# shellcheck disable=SC2016
bats_require_minimum_version 1.5.0
load lib/common
load lib/cli  # also the setup/teardown hooks

@test "update: memory, cpu and pids limits reach the container's cgroup" {
  # cgroup v1 (this host, runc): memory.limit_in_bytes, cpu.cfs_quota_us/period, pids.max
  # in the container's own cgroup dirs; cgroup v2 (hull's guest): memory.max, cpu.max, pids.max.
  rtd run -d -b "$BUNDLE" e2e-update
  rt update --memory 67108864 --cpu-quota 50000 --cpu-period 100000 --pids-limit 64 e2e-update
  run rt exec e2e-update sh -c "$CGROUP_LIMITS_SH"
  [ "$status" -eq 0 ]
  [[ $output == "mem=67108864 cpu=50000 100000 pids=64" ]]

  # The same through --resources (the JSON shape containerd's shim sends).
  echo '{"memory": {"limit": 33554432}, "pids": {"limit": 32}}' >"$BUNDLE/res.json"
  rt update --resources "$BUNDLE/res.json" e2e-update
  run rt exec e2e-update sh -c "$CGROUP_LIMITS_SH"
  [[ $output == "mem=33554432 "*" pids=32" ]]
  rt delete -f e2e-update
}

# Shell code: for each "r PATH" or "w PATH" argument, opens PATH for reading or
# writing and prints "r PATH: ok" or the error (busybox's words with strerror).
# shellcheck disable=SC2016
DEVICE_ACCESS_SH='
for t in "$@"; do
  set -- $t
  if [ "$1" = r ]; then out=$(head -c1 "$2" 2>&1 >/dev/null); else out=$(printf x 2>&1 >"$2"); fi
  echo "$t: ${out:-ok}"
done'

# Two device nodes no driver answers: an open the device rules allow fails
# with ENXIO ("No such device or address"), one they deny with EPERM.
devices_42() {
  update_config '.linux.devices = [
      {"path": "/dev/e2e-c", "type": "c", "major": 42, "minor": 42, "fileMode": 438},
      {"path": "/dev/e2e-b", "type": "b", "major": 42, "minor": 42, "fileMode": 438}]'
}

@test "devices: an allow list grants char and block devices access by access" {
  devices_42
  update_config '.linux.resources.devices = [{"allow": false, "access": "rwm"},
      {"allow": true, "type": "c", "major": 42, "minor": 42, "access": "r"}]'
  set_args sh -c "$DEVICE_ACCESS_SH" sh "r /dev/e2e-c" "w /dev/e2e-c" "r /dev/e2e-b" \
    "w /dev/e2e-b" "w /dev/null" "r /dev/zero" "r /dev/urandom" "r /dev/full"
  run rt run -b "$BUNDLE" e2e-dev-allow
  [ "$status" -eq 0 ]
  [[ $output == *"r /dev/e2e-c: head: /dev/e2e-c: No such device or address"* ]]
  [[ $output == *"w /dev/e2e-c: sh: line 3: can't create /dev/e2e-c: Operation not permitted"* ]]
  [[ $output == *"r /dev/e2e-b: head: /dev/e2e-b: Operation not permitted"* ]]
  [[ $output == *"w /dev/e2e-b: sh: line 3: can't create /dev/e2e-b: Operation not permitted"* ]]
  # runc's default devices stay usable under a deny-all list.
  [[ $output == *"w /dev/null: ok"* ]]
  [[ $output == *"r /dev/zero: ok"* ]]
  [[ $output == *"r /dev/urandom: ok"* ]]
  [[ $output == *"r /dev/full: ok"* ]]
}

@test "devices: a deny rule after allow-all takes one access away" {
  devices_42
  update_config '.linux.resources.devices = [{"allow": true, "access": "rwm"},
      {"allow": false, "type": "b", "major": 42, "minor": 42, "access": "w"}]'
  set_args sh -c "$DEVICE_ACCESS_SH" sh "r /dev/e2e-c" "w /dev/e2e-c" "r /dev/e2e-b" "w /dev/e2e-b"
  run rt run -b "$BUNDLE" e2e-dev-deny
  [ "$status" -eq 0 ]
  [[ $output == *"r /dev/e2e-c: head: /dev/e2e-c: No such device or address"* ]]
  [[ $output == *"w /dev/e2e-c: sh: line 3: can't create /dev/e2e-c: No such device or address"* ]]
  [[ $output == *"r /dev/e2e-b: head: /dev/e2e-b: No such device or address"* ]]
  [[ $output == *"w /dev/e2e-b: sh: line 3: can't create /dev/e2e-b: Operation not permitted"* ]]
}

@test "devices: a device in linux.devices without a rule for it is denied" {
  devices_42
  set_args sh -c "$DEVICE_ACCESS_SH" sh "r /dev/e2e-c" "r /dev/e2e-b"
  run rt run -b "$BUNDLE" e2e-dev-none
  [ "$status" -eq 0 ]
  [[ $output == *"r /dev/e2e-c: head: /dev/e2e-c: Operation not permitted"* ]]
  [[ $output == *"r /dev/e2e-b: head: /dev/e2e-b: Operation not permitted"* ]]
}

@test "events --stats: one JSON stats object" {
  rtd run -d -b "$BUNDLE" e2e-events
  run rt events --stats e2e-events
  [ "$status" -eq 0 ]
  echo "$output" | jq -e '.type == "stats" and .id == "e2e-events" and (.data | type == "object")'
  echo "$output" | jq -e '.data.memory.usage.usage > 0'
  echo "$output" | jq -e '.data.pids.current >= 1'
  rt delete -f e2e-events
}

@test "events --stats: runc's keys, in runc's order" {
  rtd run -d -b "$BUNDLE" e2e-evkeys
  run rt events --stats e2e-evkeys
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 1 ]
  echo "$output" | jq -e 'keys_unsorted == ["type", "id", "data"]'
  echo "$output" | jq -e '.data | keys_unsorted == ["cpu", "cpuset", "memory", "pids", "blkio",
    "hugetlb", "intel_rdt", "network_interfaces"]'
  echo "$output" | jq -e '.data.cpu.usage.total > 0 and (.data.cpu.usage | has("kernel") and has("user"))'
  echo "$output" | jq -e '.data.cpu | has("throttling")'
  echo "$output" | jq -e '.data.memory.usage | has("limit") and has("failcnt")'
  echo "$output" | jq -e '.data.memory | has("swap") and has("kernel") and has("kernelTCP")'
  echo "$output" | jq -e '.data.memory.raw | type == "object" and length > 0'
  echo "$output" | jq -e '.data.network_interfaces == null'
  rt delete -f e2e-evkeys
}

@test "events --interval: the first stats line at once" {
  [ "$RUNTIME_NAME" != runc ] || skip "runc 1.1 prints its first line after one interval"
  rtd run -d -b "$BUNDLE" e2e-evfirst
  run timeout 20 "$RUNTIME" --root "$E2E_TMP/root" events --interval 300s e2e-evfirst
  [ "$status" -eq 124 ]
  [ "${#lines[@]}" -eq 1 ]
  echo "${lines[0]}" | jq -e '.type == "stats" and .id == "e2e-evfirst"'
  rt delete -f e2e-evfirst
}

@test "events: a stream of stats at --interval" {
  rtd run -d -b "$BUNDLE" e2e-evstream
  run timeout 3 "$RUNTIME" --root "$E2E_TMP/root" events --interval 1s e2e-evstream
  [ "$status" -eq 124 ]  # still streaming when timeout stopped it
  [ "${#lines[@]}" -ge 2 ]
  for l in "${lines[@]}"; do echo "$l" | jq -e '.type == "stats" and .id == "e2e-evstream"'; done
  rt delete -f e2e-evstream
}

@test "events: an OOM kill in the container's cgroup is an oom event" {
  update_config '.linux.resources.memory = {"limit": 67108864}'
  rtd run -d -b "$BUNDLE" e2e-oom
  "$RUNTIME" --root "$E2E_TMP/root" events --interval 1s e2e-oom >"$BUNDLE/events" 2>&1 &
  evpid=$!
  wait_for 60 bash -c '[ "$(grep -c stats "$0")" -ge 2 ]' "$BUNDLE/events"  # streaming
  # (100M: more than the limit, less than the VM, whose kernel would refuse the malloc)
  run rt exec e2e-oom dd if=/dev/zero of=/dev/null bs=100M count=1
  [ "$status" -eq 137 ]
  wait_for 30 grep -q '"oom"' "$BUNDLE/events"
  kill "$evpid"
  wait "$evpid" || true
  cat "$BUNDLE/events"
  jq -se 'map(select(.type == "oom")) | length >= 1 and all(.id == "e2e-oom")' "$BUNDLE/events"
  rt delete -f e2e-oom
}

@test "spec: a cgroup namespace only on a cgroup v2 unified host, and a container runs without one" {
  mkdir "$BUNDLE/spec"
  (cd "$BUNDLE/spec" && rt spec)
  has_ns=$(jq '[.linux.namespaces[] | select(.type == "cgroup")] | length' "$BUNDLE/spec/config.json")
  if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
    [ "$has_ns" -eq 1 ]
  else
    [ "$has_ns" -eq 0 ]
  fi
  # The test bundle has no cgroup namespace (a v1 host's runc spec): the
  # container still sees its own limits at /sys/fs/cgroup.
  jq -e '[.linux.namespaces[] | select(.type == "cgroup")] | length == 0' "$BUNDLE/config.json"
  update_config '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 99}'
  set_args sh -c "$CGROUP_LIMITS_SH"
  run rt run -b "$BUNDLE" e2e-nocgns
  [ "$status" -eq 0 ]
  [[ $output == "mem=67108864 cpu="*" pids=99" ]]
}

@test "update: --cpu-period alone keeps the quota, --cpu-quota alone keeps the period" {
  rtd run -d -b "$BUNDLE" e2e-cpuhalf
  rt update --cpu-quota 50000 --cpu-period 100000 e2e-cpuhalf
  rt update --cpu-period 200000 e2e-cpuhalf
  run rt exec e2e-cpuhalf sh -c "$CGROUP_LIMITS_SH"
  [[ $output == *" cpu=50000 200000 "* ]] || { echo "$output" >&2; false; }
  rt update --cpu-quota 30000 e2e-cpuhalf
  run rt exec e2e-cpuhalf sh -c "$CGROUP_LIMITS_SH"
  [[ $output == *" cpu=30000 200000 "* ]] || { echo "$output" >&2; false; }
  rt delete -f e2e-cpuhalf
}

@test "cgroupsPath: a frozen cgroup is refused at create, not joined" {
  local fz=/sys/fs/cgroup/freezer cg=/e2e-frozen-$$
  [ -d "$fz" ] || skip "no cgroup v1 freezer hierarchy on this host"
  mkdir "$fz$cg"
  echo FROZEN >"$fz$cg/freezer.state"
  update_config '.linux.cgroupsPath = $p' --arg p "$cg"
  local cmd
  for cmd in "run -d" create; do
    # shellcheck disable=SC2086
    run timeout 120 "$RUNTIME" --root "$E2E_TMP/root" $cmd -b "$BUNDLE" e2e-frozen </dev/null
    [ "$status" -eq 1 ] || { echo "$cmd: status $status: $output" >&2; false; }
    assert_runc_error "container's cgroup unexpectedly frozen"
  done
  assert_no_state
  echo THAWED >"$fz$cg/freezer.state"
  rmdir "$fz$cg"
  local left
  left=$(cgroups_left e2e-frozen "${cg#/}")
  [ -z "$left" ] || { echo "cgroups left: $left" >&2; false; }
}

@test "cgroupsPath: two containers in one cgroup; deleting one leaves the other running" {
  update_config '.linux.cgroupsPath = $p' --arg p "/e2e-shared-$$"
  rtd run -d -b "$BUNDLE" e2e-share1
  run rtd run -d -b "$BUNDLE" e2e-share2
  [ "$status" -eq 0 ] || { echo "$output" >&2; false; }
  [[ $output == *"container's cgroup is not empty"* ]]
  [ "$(state_field e2e-share2 status)" = running ]
  rt delete -f e2e-share1
  [ "$(state_field e2e-share2 status)" = running ]
  run rt exec e2e-share2 echo still here
  [ "$status" -eq 0 ]
  [ "$output" = "still here" ]
  rt delete -f e2e-share2
  assert_no_state
  local left
  left=$(cgroups_left e2e-share1 e2e-share2 "e2e-shared-$$")
  [ -z "$left" ] || { echo "cgroups left: $left" >&2; false; }
}

@test "vm size: io.hull.* annotations need the host's allow-list, and stay under its caps" {
  [ "$RUNTIME_NAME" != runc ] || skip "runc has no VM to size"
  update_config '.annotations = {"io.hull.vm.vcpus": "2"}'
  run rt run -b "$BUNDLE" e2e-ann </dev/null
  [ "$status" -ne 0 ]
  [[ $output == *"does not allow the annotation io.hull.vm.vcpus"*"vm.allowed_annotations"* ]] ||
    { echo "$output" >&2; false; }
  assert_no_state
  local base='{}'
  [ -z "${HULL_CONFIG:-}" ] || base=$(cat "$HULL_CONFIG")
  jq '.vm.allowed_annotations = ["io.hull.vm.vcpus", "io.hull.vm.memory-mib"] |
      .vm.max_vcpus = 1 | .vm.max_memory_mib = 256' <<<"$base" >"$E2E_TMP/allowing.json"
  run env HULL_CONFIG="$E2E_TMP/allowing.json" "$RUNTIME" --root "$E2E_TMP/root" run -b "$BUNDLE" e2e-ann </dev/null
  [ "$status" -ne 0 ]
  [[ $output == *"io.hull.vm.vcpus"*"above this host's cap vm.max_vcpus = 1"* ]] ||
    { echo "$output" >&2; false; }
  update_config '.annotations = {"io.hull.vm.memory-mib": "512"}'
  run env HULL_CONFIG="$E2E_TMP/allowing.json" "$RUNTIME" --root "$E2E_TMP/root" run -b "$BUNDLE" e2e-ann </dev/null
  [ "$status" -ne 0 ]
  [[ $output == *"io.hull.vm.memory-mib"*"above this host's cap vm.max_memory_mib = 256"* ]] ||
    { echo "$output" >&2; false; }
  assert_no_state
}

@test "vm size: the host cgroup holds the VM to its RAM plus the overhead, with all RAM touched" {
  [ "$RUNTIME_NAME" != runc ] || skip "runc has no VM"
  [ -d /sys/fs/cgroup/memory ] || skip "needs the cgroup v1 memory controller"
  local cg=/e2e-mem-$$
  update_config '.linux.cgroupsPath = $p | .linux.resources = {"devices":[{"allow":true,"access":"rwm"}]} |
    .mounts += [{"destination":"/mnt","type":"tmpfs","source":"tmpfs","options":["size=400m"]}]' --arg p "$cg"
  rt run -d -b "$BUNDLE" e2e-mem </dev/null
  local dir=/sys/fs/cgroup/memory$cg
  # The default VM: 256 MiB, so 256 + 96 MiB on the host.
  [ "$(cat "$dir/memory.limit_in_bytes")" -eq $(((256 + 96) << 20)) ]
  # Fill the guest's RAM (about 215 MiB free for it) through a tmpfs, twice,
  # freeing it after each, so the guest can still start processes. Zeros
  # written are pages touched as well as any others, and dd writes them in
  # large blocks (a pipe of small writes takes a minute under TCG).
  rt exec e2e-mem sh -c 'dd if=/dev/zero of=/mnt/f bs=1M count=200 2>/dev/null; rm -f /mnt/f'
  rt exec e2e-mem sh -c 'dd if=/dev/zero of=/mnt/g bs=1M count=200 2>/dev/null; rm -f /mnt/g'
  local max
  max=$(cat "$dir/memory.max_usage_in_bytes")
  echo "host cgroup peak: $((max >> 20)) MiB" >&3
  [ "$max" -gt $((200 << 20)) ]
  [ "$max" -le $(((256 + 96) << 20)) ]
  [ "$(cat "$dir/memory.failcnt")" -eq 0 ] || grep -E 'oom_kill |under_oom' "$dir/memory.oom_control" >&3
  [ "$(rt state e2e-mem | jq -r .status)" = running ]
  run rt exec e2e-mem echo alive
  [ "$output" = alive ]
  rt delete -f e2e-mem
  assert_no_state
}
