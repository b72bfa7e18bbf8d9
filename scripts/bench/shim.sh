#!/usr/bin/env bash
# scripts/bench/shim.sh [--build DIR] [--runs N] [--pods N]
#
# Kubernetes' path: pods through containerd's CRI plugin, hull's shim
# (handler hull = io.containerd.hull.v2, one VM per pod) against runc's
# (handler runc = io.containerd.runc.v2), the same busybox pod for both:
#   start_1_s    RunPodSandbox + CreateContainer + StartContainer to the
#                container's first output line in its CRI log, one pod at a
#                time, N runs (default 5): median and p90
#   start_par_s  the same flow for P pods (default 10) started at once: each
#                pod's time, median and p90
#   idle PSS     with those P pods idle: the PSS of each pod's shim, and the
#                host PSS of everything the pods run (shims, QEMU, virtiofsd,
#                hull-vsock; for runc the shims, pause and container
#                processes) per pod, from /proc/<pid>/smaps_rollup
#   run_s        the reference: `hull run` / `runc run` of the same busybox
#                container to its first output, N runs: median and p90 (the
#                issue's goal is the pod flow within 1.2x of `hull run`)
# The containerd is tests/e2e/lib/cri.bash's: private root, state and
# sockets, in a network and mount namespace of its own with a CNI bridge,
# busybox imported as an OCI archive; nothing outside it is contacted.
# Prints a table and writes DIR/bench/shim.json. Needs root; removes every
# pod, containerd, the namespaces and the temp dir on exit. Builds
# containerd-shim-hull-v2, hull-e2e-cri, hull, hull-vsock and the guest image.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$root/build
runs=5
pods=10
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=${2:?}; shift ;;
    --runs) runs=${2:?}; shift ;;
    --pods) pods=${2:?}; shift ;;
    -h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: $0 [--build DIR] [--runs N] [--pods N]" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || { echo "shim.sh: needs root (containerd, namespaces)" >&2; exit 1; }
command -v runc >/dev/null || { echo "shim.sh: no runc: apt-get install runc" >&2; exit 1; }

cmake -S "$root" -B "$build" >/dev/null
cmake --build "$build" -j"$(nproc)" --target containerd-shim-hull-v2 hull-e2e-cri hull hull-vsock >/dev/null
if [[ ! -f $build/guest/vmlinux || ! -f $build/guest/initrd.img ]]; then
  cmake --build "$build" --target guest-image >/dev/null
fi

# The e2e suites' containerd, CRI client and leftover checks (they print
# progress on fd 3, as under bats).
export HULL_BUILD_DIR=$build
export CRI_NETNS=hull-bench-shim-$$ CRI_CGROUP=hull-bench-shim-$$
exec 3>/dev/null
lib=$root/tests/e2e/lib
# shellcheck source=tests/e2e/lib/common.bash
source "$lib/common.bash"
# shellcheck source=tests/e2e/lib/docker.bash
source "$lib/docker.bash"
# shellcheck source=tests/e2e/lib/containerd.bash
source "$lib/containerd.bash"
# shellcheck source=tests/e2e/lib/shim.bash
source "$lib/shim.bash"
# shellcheck source=tests/e2e/lib/cri.bash
source "$lib/cri.bash"

cleanup() {
  local rc=$?
  if [ -z "${E2E_SKIP:-}" ]; then stop_cri_containerd || rc=1; fi
  e2e_teardown_file || rc=1
  exit $rc
}
trap cleanup EXIT
cri_setup_file
[ -z "${E2E_SKIP:-}" ] || { echo "shim.sh: cannot run: $E2E_SKIP" >&2; exit 1; }

work=$E2E_TMP/bench
mkdir -p "$work"
now() { date +%s.%N; }

# pod_flow HANDLER NAME: the flow of one pod, timed to the first output;
# prints the seconds.
pod_flow() {
  local handler=$1 name=$2 t0 pcfg pod ctr log i line tick
  t0=$(now)
  pcfg=$(cri_pod_config "$name")
  pod=$(cri RunPodSandbox "{\"config\": $pcfg, \"runtime_handler\": \"$handler\"}" | jq -r .pod_sandbox_id) || pod=''
  [[ $pod =~ ^[0-9a-f]+$ ]] || { echo "shim.sh: RunPodSandbox $name ($handler) failed" >&2; return 1; }
  ctr=$(cri_create "$pod" "$pcfg" c 'echo first-output; exec sleep 2147483647') || ctr=''
  [[ $ctr =~ ^[0-9a-f]+$ ]] || { echo "shim.sh: CreateContainer in $name ($handler) failed" >&2; return 1; }
  cri StartContainer "{\"container_id\": \"$ctr\"}" >/dev/null || return 1
  # Polled every 10 ms without starting a process (a read with a timeout
  # on a fifo nobody writes is the sleep), not to steal the VMs' CPU.
  log=$CONTAINERD_DIR/logs/$name/c.log
  mkfifo "$work/tick-$name"
  exec {tick}<>"$work/tick-$name"
  for ((i = 0; i < 30000; i++)); do
    line=''
    { read -r line <"$log"; } 2>/dev/null || true
    [[ $line != *" first-output" ]] || break
    read -rt 0.01 -u "$tick" || true
  done
  exec {tick}<&-
  [[ $line == *" first-output" ]] || { echo "shim.sh: no output from pod $name ($handler) in 300 s" >&2; return 1; }
  python3 -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.4f}")' "$t0" "$(now)"
}

# Stops and removes every pod.
remove_pods() {
  local id
  for id in $(cri ListPodSandbox '{}' | jq -r '.items[].id'); do
    cri StopPodSandbox "{\"pod_sandbox_id\": \"$id\"}" >/dev/null
    cri RemovePodSandbox "{\"pod_sandbox_id\": \"$id\"}" >/dev/null
  done
  assert_cri_nothing_left
}

# PSS (KiB) of every process of the pods: "comm pss" lines.
pods_pss() {
  local p
  for p in $(cri_processes); do
    echo "$(cat "/proc/$p/comm") $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup")"
  done
}

# The same container without containerd: `hull run` and `runc run` of a
# bundle on the busybox rootfs, timed to the first line of its output.
hull=$build/runtime/cli/hull
runc=$(command -v runc)
[ -n "${HULL_VSOCK:-}" ] || export HULL_VSOCK=$build/runtime/vsock/hull-vsock
mkdir -p "$work/bundle"
(cd "$work/bundle" && "$hull" spec)
python3 - "$work/bundle/config.json" "$E2E_TMP/rootfs" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["root"] = {"path": sys.argv[2], "readonly": True}
c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", "echo first-output; sleep 1"]
json.dump(c, open(sys.argv[1], "w"), indent=1)
PY
# cli_run RUNTIME ID: prints the seconds to the first output line.
cli_run() {
  local t0 line t1
  t0=$(now)
  t1=$("$1" --root "$work/$(basename "$1")-root" run --bundle "$work/bundle" "$2" </dev/null | {
    read -r line
    [ "$line" = first-output ] && now
    cat >/dev/null
  })
  [ -n "$t1" ] || { echo "shim.sh: no output from $1 run" >&2; return 1; }
  python3 -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.4f}")' "$t0" "$t1"
}

declare -A one par cli
for h in hull runc; do one[$h]='' par[$h]='' cli[$h]=''; done
# One pod at a time, the runtimes alternating (the same host load for both).
for i in $(seq "$runs"); do
  for h in hull runc; do
    one[$h]+=" $(pod_flow "$h" "$h-one-$i")"
    remove_pods
  done
  cli[hull]+=" $(cli_run "$hull" "bench-run-$i")"
  cli[runc]+=" $(cli_run "$runc" "bench-run-$i")"
done
echo "one pod at a time: hull${one[hull]} s; runc${one[runc]} s" >&2
echo "run: hull${cli[hull]} s; runc${cli[runc]} s" >&2

# P pods at once, then their PSS once they idle.
for h in hull runc; do
  flows=()
  for i in $(seq "$pods"); do
    pod_flow "$h" "$h-par-$i" >"$work/$h-par-$i" &
    flows+=($!)
  done
  for f in "${flows[@]}"; do wait "$f"; done
  par[$h]=$(cat "$work/$h-par-"*)
  sleep 5
  pods_pss >"$work/$h-pss"
  echo "$pods pods at once ($h): $(tr '\n' ' ' <<<"${par[$h]}")s" >&2
  remove_pods
done

mkdir -p "$build/bench"
python3 - "$build/bench/shim.json" "$runs" "$pods" "${one[hull]}" "${one[runc]}" \
  "${par[hull]}" "${par[runc]}" "$work/hull-pss" "$work/runc-pss" "${cli[hull]}" "${cli[runc]}" <<'PY'
import json, os, statistics, sys
out, runs, pods = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def pct(v, q):
    s = sorted(v)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]

def dist(s):
    v = [float(x) for x in s.split()]
    return {"values": v, "median": statistics.median(v), "p90": pct(v, 0.9)}

def pss(path):
    procs = {}
    shims = []
    for line in open(path):
        name, kib = line.split()
        o = procs.setdefault(name, {"procs": 0, "pss_kib": 0})
        o["procs"] += 1
        o["pss_kib"] += int(kib)
        if name == "containerd-shim":
            shims.append(int(kib))
    total = sum(o["pss_kib"] for o in procs.values())
    return {"by_process": procs, "shim_pss_kib": {"values": shims, "median": statistics.median(shims)},
            "total_pss_kib_per_pod": total / pods}

res = {}
for i, h in enumerate(("hull", "runc")):
    res[h] = {"start_1_s": dist(sys.argv[4 + i]), "start_par_s": dist(sys.argv[6 + i]),
              "idle": pss(sys.argv[8 + i]), "run_s": dist(sys.argv[10 + i])}
mib = 1024.0
print(f"shim: pod start to first output and idle PSS through containerd's CRI, "
      f"{runs} runs of 1 pod, {pods} pods in parallel; host load {os.getloadavg()[0]:.2f}")
print(f"{'':40}{'hull':>10}{'runc':>10}{'ratio':>8}")
rows = [("1 pod: start, median (s)", lambda r: r["start_1_s"]["median"], "{:>10.2f}"),
        ("1 pod: start, p90 (s)", lambda r: r["start_1_s"]["p90"], "{:>10.2f}"),
        (f"{pods} pods at once: start, median (s)", lambda r: r["start_par_s"]["median"], "{:>10.2f}"),
        (f"{pods} pods at once: start, p90 (s)", lambda r: r["start_par_s"]["p90"], "{:>10.2f}"),
        ("reference: `run` of the same, median (s)", lambda r: r["run_s"]["median"], "{:>10.2f}"),
        ("1 pod start / `run`", lambda r: r["start_1_s"]["median"] / r["run_s"]["median"], "{:>10.2f}"),
        (f"shim PSS, {pods} idle pods, median (MiB)", lambda r: r["idle"]["shim_pss_kib"]["median"] / mib, "{:>10.1f}"),
        (f"host PSS per pod, {pods} idle (MiB)", lambda r: r["idle"]["total_pss_kib_per_pod"] / mib, "{:>10.1f}")]
for label, get, fmt in rows:
    h, r = get(res["hull"]), get(res["runc"])
    print(f"{label:40}{fmt.format(h)}{fmt.format(r)}{h / r:>8.1f}")
print(f"host PSS of the {pods} idle pods by process (MiB)")
for h in ("hull", "runc"):
    for name, o in sorted(res[h]["idle"]["by_process"].items()):
        print(f"  {h:6}{name + ' x' + str(o['procs']):28}{o['pss_kib'] / mib:>10.1f}")
os.makedirs(os.path.dirname(out), exist_ok=True)
json.dump({"bench": "shim", "runs": runs, "pods": pods, "load": os.getloadavg()[0], **res},
          open(out, "w"), indent=2)
print(f"wrote {out}")
PY
