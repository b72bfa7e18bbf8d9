#!/usr/bin/env bash
# scripts/bench/burst.sh [--build DIR] [N]
#
# Starts N `hull run` of a busybox /bin/true container at the same moment (default 10),
# all under one runtime root, and reports:
#   ok / failed     how many exited 0, and the first error line of each failure kind
#   p50, p90, max   start-to-exit latency of the successful runs (seconds)
#   batch_s         from the first start to the last exit
# with the host load (1-minute average) before the burst. Prints a table and writes
# DIR/bench/burst.json (DIR/bench/burst-N.json too). Needs root. Every container is
# deleted and the temp dir removed on exit, also after failures.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib/bench.sh
. "$root/scripts/lib/bench.sh"
build=$root/build
n=10
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=${2:?}; shift ;;
    -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    [0-9]*) n=$1 ;;
    *) echo "burst.sh: unknown argument $1 (usage: burst.sh [--build DIR] [N])" >&2; exit 2 ;;
  esac
  shift
done
# shellcheck disable=SC2046  # seq prints one word per line
bench_hull burst.sh burst $(seq -f 'burst-%g' "$n")

bundle=$work/bundle
make_bench_bundle "$bundle" "$hull" /bin/true

mkdir -p "$build/bench"
python3 - "$hull" "$hull_root" "$bundle" "$n" "$build/bench" <<'PY'
import json, os, statistics, subprocess, sys, time
hull, hull_root, bundle, n, out_dir = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
load = os.getloadavg()
procs = []
t0 = time.monotonic()
for i in range(1, n + 1):
    p = subprocess.Popen([hull, "--root", hull_root, "run", "--bundle", bundle, f"burst-{i}"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    procs.append((i, time.monotonic(), p))
results = []
pending = list(procs)
while pending:
    still = []
    for i, start, p in pending:
        rc = p.poll()
        if rc is None:
            still.append((i, start, p))
        else:
            err = p.stderr.read().decode(errors="replace").strip().splitlines()
            results.append({"id": i, "rc": rc, "seconds": round(time.monotonic() - start, 3),
                            "error": err[-1] if (rc != 0 and err) else ""})
    pending = still
    if pending:
        time.sleep(0.05)
batch = time.monotonic() - t0
ok = sorted(r["seconds"] for r in results if r["rc"] == 0)
failed = [r for r in results if r["rc"] != 0]

def pct(v, q):
    if not v:
        return None
    k = max(0, min(len(v) - 1, round(q * (len(v) - 1))))
    return v[k]

summary = {"bench": "burst", "n": n, "load_before": [round(x, 2) for x in load],
           "ok": len(ok), "failed": len(failed), "batch_s": round(batch, 3),
           "p50_s": pct(ok, 0.5), "p90_s": pct(ok, 0.9), "max_s": ok[-1] if ok else None,
           "min_s": ok[0] if ok else None, "runs": sorted(results, key=lambda r: r["id"])}
kinds = {}
for r in failed:
    # group by the message without ids and numbers that differ per container
    key = " ".join(w for w in r["error"].split() if not any(c.isdigit() for c in w))[:160]
    kinds.setdefault(key, []).append(r["id"])
summary["failure_kinds"] = [{"count": len(v), "example": next(r["error"] for r in failed if r["id"] == v[0])}
                            for v in kinds.values()]
fmt = lambda x: "-" if x is None else f"{x:.2f}"
print(f"burst of {n} `hull run /bin/true`, host load before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
print(f"{'ok':>5} {'failed':>7} {'p50 s':>7} {'p90 s':>7} {'max s':>7} {'batch s':>8}")
print(f"{len(ok):>5} {len(failed):>7} {fmt(summary['p50_s']):>7} {fmt(summary['p90_s']):>7} "
      f"{fmt(summary['max_s']):>7} {batch:>8.2f}")
for k in summary["failure_kinds"]:
    print(f"  {k['count']} x {k['example']}")
for path in (f"{out_dir}/burst.json", f"{out_dir}/burst-{n}.json"):
    json.dump(summary, open(path, "w"), indent=2)
print(f"written: {out_dir}/burst.json")
PY
