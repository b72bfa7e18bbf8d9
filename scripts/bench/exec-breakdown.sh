#!/usr/bin/env bash
# scripts/bench/exec-breakdown.sh [--build DIR] [--runs N]
#
# Where the time of `hull exec` goes, in a running busybox container, N times (default 5).
# The exec'd process is busybox sh printing the guest's uptime and its own start time
# (/proc/self/stat). In the guest the agent vforks and re-executes itself as the container
# init's bootstrap, which joins the container's namespaces and clones the container process;
# that one sets itself up, waits for the agent's Start and executes sh, keeping its pid, so
# sh's start time is the clone. The host side comes from hull's --debug log (CLI and exec
# monitor, wall clock) and from when the first byte of stdout reaches the host:
#   spawn_s      hull exec's exec -> "monitor N started" (CLI: state, process file, monitor
#                spawned)
#   connect_s    -> the monitor's "starting the process in the VM" (monitor start, agent
#                connection over vsock)
#   to_clone_s   -> the clone in the guest, from host to guest, plus stdout's way back;
#                split, with the host-guest clock offset of the run whose output came back
#                fastest, into
#     rpc_to_clone_s  the ExecProcess RPC, the agent's work, its vfork, the bootstrap's
#                     re-exec, decoding and setns, up to the clone (guest time on the host
#                     clock: late by that fastest run's output transit; 10 ms ticks)
#     out_extra_s     the output's way back, beyond the fastest run's
#   clone_to_sh_s  clone -> sh running (guest clock, 10 ms ticks): the container process's
#                setup, the Ready/Start handshake with the agent, the execve of sh
#   output_s     first stdout byte on the host -> the monitor's "exec ...: exited" line (the
#                process's exit and its status back)
#   exit_s       -> hull exec's exit (the monitor's exit, the CLI reaping it)
#   total_s      hull exec from exec to exit
# Medians and p10-p90; prints a table and writes DIR/bench/exec-breakdown.json. Needs root.
# Runs under the build tree's guest image and hull-vsock unless HULL_CONFIG / HULL_VSOCK say
# otherwise; the container and the temp dir are removed on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib/bench.sh
. "$root/scripts/lib/bench.sh"
build=$root/build
runs=5
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=${2:?}; shift ;;
    --runs) runs=${2:?}; shift ;;
    -h | --help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "exec-breakdown.sh: unknown argument $1 (usage: exec-breakdown.sh [--build DIR] [--runs N])" >&2; exit 2 ;;
  esac
  shift
done
bench_hull exec-breakdown.sh execbd execbd

bundle=$work/bundle
make_bench_bundle "$bundle" "$hull" /bin/sleep 1000000
"$hull" --root "$hull_root" run -d --bundle "$bundle" execbd </dev/null >/dev/null

mkdir -p "$build/bench"
python3 - "$hull" "$hull_root" "$runs" "$work/hull.log" "$build/bench/exec-breakdown.json" <<'PY'
import datetime, json, os, re, statistics, subprocess, sys, time

hull, hull_root, runs, log, out_json = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], \
    sys.argv[5]
script = 'read up idle </proc/uptime; read -r stat </proc/self/stat; echo "$up $stat"'
ticks = os.sysconf("SC_CLK_TCK")  # the guest's USER_HZ is the same 100 on x86

def log_time(line):
    m = re.match(r'time="(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{9})Z"', line)
    t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    return t + int(m.group(2)) / 1e9

def one():
    if os.path.exists(log):
        os.unlink(log)
    t0 = time.time()
    p = subprocess.Popen([hull, "--root", hull_root, "--debug", "--log", log, "exec", "execbd",
                          "/bin/sh", "-c", script],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = None
    out = b""
    while True:
        chunk = os.read(p.stdout.fileno(), 4096)
        if not chunk:
            break
        if first is None:
            first = time.time()
        out += chunk
    rc = p.wait()
    t_end = time.time()
    if rc != 0:
        sys.exit(f"exec-breakdown.sh: hull exec failed ({rc}): {p.stderr.read().decode()}")
    marks = {}
    for line in open(log):
        for key, pat in (("spawned", r": monitor \d+ started"),
                         ("starting", r"starting the process in the VM"),
                         ("exited", r": exec \w+: (exited|killed)")):
            if key not in marks and re.search(pat, line):
                marks[key] = log_time(line)
    if len(marks) != 3:
        sys.exit(f"exec-breakdown.sh: the --debug log lacks a line ({sorted(marks)}):\n"
                 + open(log).read())
    fields = out.decode().split()
    uptime = float(fields[0])
    # /proc/PID/stat: "pid (comm) state ..." with starttime the 22nd field.
    stat = out.decode().split(None, 1)[1]
    start_ticks = int(stat.rsplit(")", 1)[1].split()[19])
    clone_s = uptime - start_ticks / ticks
    to_output = first - marks["starting"]
    return {"spawn_s": marks["spawned"] - t0, "connect_s": marks["starting"] - marks["spawned"],
            "to_clone_s": to_output - clone_s, "clone_to_sh_s": clone_s,
            "output_s": marks["exited"] - first, "exit_s": t_end - marks["exited"],
            "total_s": t_end - t0,
            # for the clock offset below
            "_first": first, "_uptime": uptime, "_start": start_ticks / ticks,
            "_starting": marks["starting"]}

def pct(values, q):
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)

load_before = os.getloadavg()
samples = [one() for _ in range(runs)]
load_after = os.getloadavg()
# Host wall clock minus guest uptime, from the run whose output reached the host fastest
# (its way back counted as 0: an estimate too late by that run's transit). It splits
# to_clone_s into the way to the clone (rpc_to_clone_s) and the output's way back beyond
# the fastest run's (out_extra_s).
offset = min(s["_first"] - s["_uptime"] for s in samples)
for s in samples:
    s["rpc_to_clone_s"] = s["_start"] + offset - s["_starting"]
    s["out_extra_s"] = s["_first"] - s["_uptime"] - offset
keys = ["spawn_s", "connect_s", "to_clone_s", "rpc_to_clone_s", "out_extra_s", "clone_to_sh_s",
        "output_s", "exit_s", "total_s"]
res = {}
for k in keys:
    v = [s[k] for s in samples]
    res[k] = {"median": statistics.median(v), "p10": pct(v, 0.1), "p90": pct(v, 0.9),
              "runs": [round(x, 4) for x in v]}
print(f"hull exec of busybox sh in a running container, {runs} runs")
print(f"host load (1/5/15 min) before {' '.join(f'{x:.2f}' for x in load_before)}, "
      f"after {' '.join(f'{x:.2f}' for x in load_after)}")
print(f"{'':16}{'median':>10}{'p10':>10}{'p90':>10}")
for k in keys:
    r = res[k]
    print(f"{k:16}{r['median']:>10.3f}{r['p10']:>10.3f}{r['p90']:>10.3f}")
with open(out_json, "w") as f:
    json.dump({"bench": "exec-breakdown", "runs": runs,
               "load_before": [round(x, 2) for x in load_before],
               "load_after": [round(x, 2) for x in load_after], "results": res}, f, indent=2)
print(f"written: {out_json}")
PY
