#!/usr/bin/env bash
# scripts/bench/density.sh [--build DIR] [--settle S] [--window S] [--kernel VMLINUX] [N]
#
# N idle busybox containers (`sleep` as the process, default N = 10) up at once under one
# runtime root (started with `hull run -d`, at most 4 at a time), then:
#   idle_cpu_pct   CPU of all their host processes (each monitor and everything under it:
#                  QEMU, virtiofsd, hull-vsock) over a --window (default 20 s) after --settle
#                  (default 10 s), in % of one core: the total, and per container the
#                  median, min and max (the spread is the noise)
#   pss_mib        host PSS per container (smaps_rollup of the same processes): median, min,
#                  max, and the total split by process name
#   exec_s         `hull exec ID /bin/true` into the first, middle and last container, 3 each:
#                  median and max
# with the host load before and after. --kernel boots another guest kernel (for a before /
# after of a kernel option; written to a temp config read through HULL_CONFIG).
# Prints a table and writes DIR/bench/density.json (and density-N.json). Needs root. Every
# container and the temp dir are removed on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib/bench.sh
. "$root/scripts/lib/bench.sh"
build=$root/build
n=10
settle=10
window=20
kernel=''
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=${2:?}; shift ;;
    --settle) settle=${2:?}; shift ;;
    --window) window=${2:?}; shift ;;
    --kernel) kernel=${2:?}; shift ;;
    -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    [0-9]*) n=$1 ;;
    *) echo "density.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
# shellcheck disable=SC2046  # seq prints one word per line
bench_hull density.sh density $(seq -f 'dens-%g' "$n")

if [[ -n $kernel ]]; then
  [[ -r $kernel ]] || { echo "density.sh: no kernel at $kernel" >&2; exit 1; }
  base=${HULL_CONFIG:-/etc/hull/config.json}
  python3 - "$base" "$kernel" "$work/config.json" <<'PY'
import json, os, sys
base, kernel, out = sys.argv[1:]
c = json.load(open(base)) if os.path.exists(base) else {}
c.setdefault("vm", {})["kernel"] = kernel
json.dump(c, open(out, "w"))
PY
  export HULL_CONFIG=$work/config.json
fi

bundle=$work/bundle
make_bench_bundle "$bundle" "$hull" /bin/sleep 1000000

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "density.sh: starting $n containers (load $load_before)" >&2
started=0
for i in $(seq "$n"); do
  "$hull" --root "$hull_root" run -d --bundle "$bundle" "dens-$i" </dev/null >/dev/null 2>"$work/err-$i" &
  if (( i % 4 == 0 )); then wait; fi
done
wait
for i in $(seq "$n"); do
  if [[ $("$hull" --root "$hull_root" state "dens-$i" 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])' 2>/dev/null) == running ]]; then
    started=$((started + 1))
  else
    echo "density.sh: dens-$i did not start: $(tail -1 "$work/err-$i")" >&2
  fi
done
sleep "$settle"

pids=()
for i in $(seq "$n"); do
  pids+=("$("$hull" --root "$hull_root" state "dens-$i" 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin).get("pid", 0))' 2>/dev/null || echo 0)")
done

# CPU ticks and PSS of each container's process tree, over the window.
measure=$work/measure.py
cat >"$measure" <<'PY'
import json, os, sys, time
def tree(root):
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d))
    pending, procs = [root], []
    while pending:
        p = pending.pop()
        procs.append(p)
        pending += children.get(p, [])
    return procs
def ticks(p):
    try:
        f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0
roots = [int(x) for x in sys.argv[2].split() if int(x) > 0]
window = float(sys.argv[1])
trees = {r: tree(r) for r in roots}
t0 = {r: sum(ticks(p) for p in ps) for r, ps in trees.items()}
w0 = time.monotonic()
time.sleep(window)
dt = time.monotonic() - w0
hz = os.sysconf("SC_CLK_TCK")
cpu = {r: 100.0 * (sum(ticks(p) for p in ps) - t0[r]) / hz / dt for r, ps in trees.items()}
pss, by_name = {}, {}
for r, ps in trees.items():
    total = 0
    for p in ps:
        try:
            name = open(f"/proc/{p}/comm").read().strip()
            kb = {l.split(":")[0]: int(l.split()[1]) for l in open(f"/proc/{p}/smaps_rollup")
                  if l.split(":")[0] in ("Pss", "Pss_Anon", "Pss_File", "Pss_Shmem")}
        except OSError:
            continue
        total += kb.get("Pss", 0)
        o = by_name.setdefault(name, {"procs": 0, "Pss": 0, "Pss_Anon": 0, "Pss_File": 0, "Pss_Shmem": 0})
        o["procs"] += 1
        for k, v in kb.items():
            o[k] += v
    pss[r] = total / 1024.0
print(json.dumps({"cpu_pct": list(cpu.values()), "pss_mib": list(pss.values()), "by_name_kib": by_name,
                  "window_s": dt}))
PY
m=$(python3 "$measure" "$window" "${pids[*]}")

exec_times=()
targets=$(printf '%s\n' 1 $(((n + 1) / 2)) "$n" | sort -un)
for i in $targets; do
  for _ in 1 2 3; do
    t=$(date +%s.%N)
    if "$hull" --root "$hull_root" exec "dens-$i" /bin/true </dev/null >/dev/null 2>&1; then
      exec_times+=("$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$t" "$(date +%s.%N)")")
    else
      exec_times+=(fail)
    fi
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p "$build/bench"
python3 - "$build/bench" "$n" "$started" "$m" "${exec_times[*]}" "$load_before" "$load_after" "${kernel:-default}" <<'PY'
import json, statistics, sys
out_dir, n, started, m, execs, lb, la, kernel = sys.argv[1:]
n, started, m = int(n), int(started), json.loads(m)
cpu, pss = sorted(m["cpu_pct"]), sorted(m["pss_mib"])
ex = [float(x) for x in execs.split() if x != "fail"]
fails = sum(1 for x in execs.split() if x == "fail")
med = lambda v: statistics.median(v) if v else float("nan")
r = {"bench": "density", "n": n, "started": started, "kernel": kernel, "load_before": lb, "load_after": la,
     "window_s": round(m["window_s"], 2),
     "idle_cpu_pct": {"total": round(sum(cpu), 2), "per_container_median": round(med(cpu), 2),
                      "min": round(cpu[0], 2) if cpu else None, "max": round(cpu[-1], 2) if cpu else None,
                      "each": [round(x, 2) for x in m["cpu_pct"]]},
     "pss_mib": {"per_container_median": round(med(pss), 1), "min": round(pss[0], 1) if pss else None,
                 "max": round(pss[-1], 1) if pss else None, "by_name_kib": m["by_name_kib"]},
     "exec_s": {"median": round(med(ex), 3), "max": max(ex) if ex else None, "failed": fails, "each": ex}}
print(f"{n} idle containers ({started} started), kernel {kernel}; load before {lb}, after {la}")
print(f"{'':34}{'total':>8}{'median':>8}{'min':>8}{'max':>8}")
c = r["idle_cpu_pct"]
print(f"{'idle CPU, % of one core':34}{c['total']:>8.2f}{c['per_container_median']:>8.2f}{c['min']:>8.2f}{c['max']:>8.2f}")
p = r["pss_mib"]
print(f"{'host PSS per container, MiB':34}{sum(pss):>8.0f}{p['per_container_median']:>8.1f}{p['min']:>8.1f}{p['max']:>8.1f}")
print(f"{'exec /bin/true, s':34}{'':>8}{r['exec_s']['median']:>8.3f}{'':>8}{(r['exec_s']['max'] or 0):>8.3f}"
      + (f"  ({fails} failed)" if fails else ""))
print("PSS by process, KiB per container: " + ", ".join(
    f"{k} {v['Pss'] / max(1, started):.0f}" for k, v in sorted(m["by_name_kib"].items())))
for path in (f"{out_dir}/density.json", f"{out_dir}/density-{n}.json"):
    json.dump(r, open(path, "w"), indent=2)
print(f"written: {out_dir}/density.json")
PY
