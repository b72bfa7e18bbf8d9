#!/usr/bin/env bash
# scripts/bench/stdio.sh [--build DIR] [--runs N] [--mib M]
#
# stdout throughput through the agent: `cat` of an M MiB file (default 64, random bytes)
# in a busybox container, its stdout a pipe that the benchmark reads on the host:
#   hull run    `hull run` of a container whose process is `cat /data`
#   hull exec   `hull exec ID cat /data` in a running container (process `sleep`)
#   runc run, runc exec   the same with runc on the same bundle, as the reference (when
#               runc is installed)
# alternated N times (default 5). For each it reports the median and p10-p90 of
#   stream_MBps  bytes / (last byte - first byte) on the host: the copy alone, 10^6 B/s
#   total_s      from the command's exec to its exit (boot and teardown included for run)
# Issue 14's goal: stream_MBps >= 100 for hull. Every byte is counted: a short copy fails
# the run. Prints a table and writes DIR/bench/stdio.json. Needs root. Runs under the build
# tree's guest image and hull-vsock unless HULL_CONFIG / HULL_VSOCK say otherwise; every
# container is deleted and the temp dir removed on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib/bench.sh
. "$root/scripts/lib/bench.sh"
build=$root/build
runs=5
mib=64
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=${2:?}; shift ;;
    --runs) runs=${2:?}; shift ;;
    --mib) mib=${2:?}; shift ;;
    -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "stdio.sh: unknown argument $1 (usage: stdio.sh [--build DIR] [--runs N] [--mib M])" >&2; exit 2 ;;
  esac
  shift
done
runc=$(command -v runc || true)
# shellcheck disable=SC2046  # seq prints one word per line
bench_hull stdio.sh stdio stdio-exec $(seq -f 'stdio-run-%g' "$runs")
runc_root=$work/runc-root
cleanup() {
  local id
  # Distinct ids for hull and runc: both name the host cgroup after the id.
  if [ -n "$runc" ]; then
    for id in "${bench_containers[@]}"; do
      "$runc" --root "$runc_root" delete -f "runc-$id" >/dev/null 2>&1 || true
    done
  fi
  bench_cleanup
}
trap cleanup EXIT

bundle=$work/bundle
make_bench_bundle "$bundle" "$hull" /bin/cat /data
head -c "$((mib << 20))" /dev/urandom >"$bundle/rootfs/data"
# A second bundle on the same rootfs whose process stays up, for exec.
sleeper=$work/sleeper
mkdir -p "$sleeper"
jq --arg r "$bundle/rootfs" '.process.args = ["/bin/sleep", "1000000"] | .root.path = $r' \
  "$bundle/config.json" >"$sleeper/config.json"
"$hull" --root "$hull_root" run -d --bundle "$sleeper" stdio-exec </dev/null >/dev/null
if [ -n "$runc" ]; then
  "$runc" --root "$runc_root" run -d --bundle "$sleeper" runc-stdio-exec </dev/null >/dev/null
fi

mkdir -p "$build/bench"
python3 - "$hull" "$hull_root" "$runc" "$runc_root" "$bundle" "$runs" "$((mib << 20))" \
  "$build/bench/stdio.json" <<'PY'
import json, os, statistics, subprocess, sys, tempfile, time

hull, hull_root, runc, runc_root, bundle, runs, size, out_json = sys.argv[1:]
runs, size = int(runs), int(size)

def stream(label, argv):
    t0 = time.monotonic()
    errf = tempfile.TemporaryFile()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errf)
    fd = p.stdout.fileno()
    got, first = 0, None
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        if first is None:
            first = time.monotonic()
        got += len(chunk)
    last = time.monotonic()
    rc = p.wait()
    errf.seek(0)
    err = errf.read().decode(errors="replace").strip()
    total = time.monotonic() - t0
    if rc != 0 or got != size:
        sys.exit(f"stdio.sh: {label}: status {rc}, {got} of {size} bytes: {err}")
    return {"stream_MBps": size / (last - first) / 1e6, "total_s": total}

modes = {
    "hull run": lambda n: [hull, "--root", hull_root, "run", "--bundle", bundle, f"stdio-run-{n}"],
    "hull exec": lambda n: [hull, "--root", hull_root, "exec", "stdio-exec", "/bin/cat", "/data"],
}
if runc:
    modes["runc run"] = lambda n: [runc, "--root", runc_root, "run", "--bundle", bundle,
                                   f"runc-stdio-run-{n}"]
    modes["runc exec"] = lambda n: [runc, "--root", runc_root, "exec", "runc-stdio-exec", "/bin/cat",
                                    "/data"]

def pct(values, q):
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)

load_before = os.getloadavg()
samples = {m: [] for m in modes}
for n in range(1, runs + 1):
    for m, argv in modes.items():
        samples[m].append(stream(m, argv(n)))
load_after = os.getloadavg()

results = {}
for m, rs in samples.items():
    results[m] = {}
    for k in ("stream_MBps", "total_s"):
        v = [r[k] for r in rs]
        results[m][k] = {"median": statistics.median(v), "p10": pct(v, 0.1), "p90": pct(v, 0.9),
                         "runs": [round(x, 4) for x in v]}

print(f"stdout throughput, cat of {size >> 20} MiB to a host pipe, median of {runs} "
      f"(p10-p90), modes alternated")
print(f"host load (1/5/15 min) before {' '.join(f'{x:.2f}' for x in load_before)}, "
      f"after {' '.join(f'{x:.2f}' for x in load_after)}")
print(f"{'':12}{'stream MB/s':>26}{'total s':>26}")
for m, r in results.items():
    cells = ""
    for k, fmt in (("stream_MBps", "{:.1f}"), ("total_s", "{:.3f}")):
        v = r[k]
        cells += f"{(fmt + ' (' + fmt + '-' + fmt + ')').format(v['median'], v['p10'], v['p90']):>26}"
    print(f"{m:12}{cells}")
print("goal: hull stream >= 100 MB/s")
with open(out_json, "w") as f:
    json.dump({"bench": "stdio", "runs": runs, "bytes": size,
               "load_before": [round(x, 2) for x in load_before],
               "load_after": [round(x, 2) for x in load_after], "results": results}, f, indent=2)
print(f"written: {out_json}")
PY
