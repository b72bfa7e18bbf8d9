#!/usr/bin/env bash
# scripts/bench/idle-wakeups.sh [--build DIR] [--settle S] [--window S] [--top K]
#
# What wakes an idle guest: one busybox container started with `hull run -d`, whose
# process is a probe in the guest's own PID namespace (the spec's pid namespace removed,
# so its /proc shows the agent and the kernel threads). The probe sleeps --settle seconds
# (default 15), snapshots the guest's /proc/interrupts, /proc/softirqs and every thread's
# voluntary and involuntary context switches, sleeps --window seconds (default 30),
# snapshots again, then sleeps like density.sh's containers. Between the two snapshots
# nothing of the probe's runs. Reported per second of the window:
#   loc_per_s        local APIC timer interrupts (LOC): the guest's timer wake-ups
#   softirq_per_s    TIMER, HRTIMER, RCU, SCHED, ... softirqs
#   threads          context switches per thread over the window, largest first (--top,
#                    default 12), each thread's name as the guest shows it
#   host_cpu_pct     CPU of the container's host processes (monitor, QEMU, virtiofsd,
#                    hull-vsock) over the same window, % of one core
# Prints a table with the host load and writes DIR/bench/idle-wakeups.json. Needs root.
# The container and the temp dir are removed on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib/bench.sh
. "$root/scripts/lib/bench.sh"
build=$root/build
settle=15
window=30
top=12
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=${2:?}; shift ;;
    --settle) settle=${2:?}; shift ;;
    --window) window=${2:?}; shift ;;
    --top) top=${2:?}; shift ;;
    -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "idle-wakeups.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
bench_hull idle-wakeups.sh idle-wakeups idle-probe

bundle=$work/bundle
# The probe: snapshots to /probe/a and /probe/b in the rootfs (the host reads them there).
# shellcheck disable=SC2016  # expanded by the guest's sh, not here
probe='snap() {
  cs=/sys/devices/system/clocksource/clocksource0
  echo "INFO clocksource $(cat $cs/current_clocksource) (of $(cat $cs/available_clocksource))"
  echo "INFO cmdline $(cat /proc/cmdline)"
  for d in /sys/bus/virtio/devices/virtio*; do
    echo "INFO ${d##*/} device $(cat $d/device)"
  done
  cat /proc/interrupts /proc/softirqs
  for s in /proc/[0-9]*/task/[0-9]*/status; do
    name= vol= nvol=
    while read -r k v; do
      case $k in
        Name:) name=$v ;;
        voluntary_ctxt_switches:) vol=$v ;;
        nonvoluntary_ctxt_switches:) nvol=$v ;;
      esac
    done <"$s" 2>/dev/null
    t=${s%/status}
    [ "${t##*/}" = $$ ] && continue  # the probe itself: its own snapshot
    echo "CTXT ${t##*/} $vol $nvol $name"
  done
}
sleep "$1"; snap >/probe/a.tmp; mv /probe/a.tmp /probe/a
sleep "$2"; snap >/probe/b.tmp; mv /probe/b.tmp /probe/b
exec sleep 1000000'
make_bench_bundle "$bundle" "$hull" /bin/sh /probe/probe.sh "$settle" "$window"
jq '.root.readonly = false | .linux.namespaces |= map(select(.type != "pid"))' \
  "$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"
mkdir -p "$bundle/rootfs/probe"
printf '%s\n' "$probe" >"$bundle/rootfs/probe/probe.sh"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "idle-wakeups.sh: starting the probe (load $load_before)" >&2
"$hull" --root "$hull_root" run -d --bundle "$bundle" idle-probe </dev/null >/dev/null
pid=$("$hull" --root "$hull_root" state idle-probe | jq -r '.pid // 0')

# The host side of the same window: CPU ticks of the container's process tree.
host_ticks() {
  python3 - "$pid" <<'PY'
import os, sys
root = int(sys.argv[1])
children = {}
for d in os.listdir("/proc"):
    if d.isdigit():
        try:
            ppid = int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
pending, total = [root], 0
while pending:
    p = pending.pop()
    pending += children.get(p, [])
    try:
        f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
        total += int(f[11]) + int(f[12])
    except (OSError, IndexError, ValueError):
        pass
print(total)
PY
}
wait_for() {
  local f=$1 i
  for ((i = 0; i < 600; i++)); do
    [ -f "$f" ] && return 0
    sleep 0.2
  done
  echo "idle-wakeups.sh: the probe wrote no $f" >&2
  exit 1
}
wait_for "$bundle/rootfs/probe/a"
t0=$(host_ticks)
s0=$(date +%s.%N)
wait_for "$bundle/rootfs/probe/b"
t1=$(host_ticks)
s1=$(date +%s.%N)
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p "$build/bench"
python3 - "$build/bench" "$bundle/rootfs/probe" "$window" "$top" "$load_before" "$load_after" \
  "$t0" "$t1" "$s0" "$s1" "$(getconf CLK_TCK)" <<'PY'
import json, re, sys
out_dir, probe, window, top, lb, la, t0, t1, s0, s1, hz = sys.argv[1:]
window, top = float(window), int(top)

info = {}
def parse(path):
    # /proc/interrupts then /proc/softirqs, each after a header of CPU columns.
    irq, soft, ctxt, tables, ncpu = {}, {}, {}, [], 1
    info.clear()
    for line in open(path):
        f = line.split()
        if line.startswith("INFO "):
            info[f[1]] = " ".join(f[2:])
        elif line.startswith("CTXT "):
            ctxt[f[1]] = (" ".join(f[4:]), int(f[2] or 0), int(f[3] or 0))
        elif f and f[0].startswith("CPU"):
            tables.append(irq if not tables else soft)
            ncpu = len(f)
        elif f and tables and f[0].endswith(":"):
            key = f[0][:-1] + (" " + f[-1] if f[0][:-1].isdigit() else "")  # "51 virtio2"
            tables[-1][key] = sum(int(x) for x in f[1:1 + ncpu] if x.isdigit())
    return irq, soft, ctxt

ia, sa, ca = parse(f"{probe}/a")
ib, sb, cb = parse(f"{probe}/b")
irq = {k: round((ib[k] - ia.get(k, 0)) / window, 2) for k in ib if ib[k] - ia.get(k, 0) > 0}
soft = {k: round((sb[k] - sa.get(k, 0)) / window, 2) for k in sb if sb[k] - sa.get(k, 0) > 0}
threads = []
for tid, (name, vol, nvol) in cb.items():
    if tid in ca:
        _, v0, n0 = ca[tid]
        d = (vol - v0) + (nvol - n0)
        if d > 0:
            threads.append({"tid": int(tid), "name": name, "switches": d,
                            "voluntary": vol - v0, "per_s": round(d / window, 2)})
threads.sort(key=lambda t: -t["switches"])
host = 100.0 * (int(t1) - int(t0)) / int(hz) / (float(s1) - float(s0))
r = {"bench": "idle-wakeups", "window_s": window, "load_before": lb, "load_after": la,
     "loc_per_s": irq.get("LOC", 0.0), "irq_per_s": irq, "softirq_per_s": soft,
     "switches_per_s": round(sum(t["switches"] for t in threads) / window, 2),
     "threads": threads, "host_cpu_pct": round(host, 2), "guest": info}
print(f"idle guest over {window:.0f} s; load before {lb}, after {la}")
print(f"guest clocksource {info.get('clocksource', '?')}; cmdline {info.get('cmdline', '?')}")
print("virtio devices (ids: 5 balloon, 19 vsock, 26 fs): " + ", ".join(
    f"{k} {v.split()[-1]}" for k, v in sorted(info.items()) if k.startswith("virtio")))
print(f"LOC/s {r['loc_per_s']}, context switches/s {r['switches_per_s']}, "
      f"host CPU {r['host_cpu_pct']} % of one core")
print("interrupts/s: " + ", ".join(f"{k} {v}" for k, v in sorted(irq.items(), key=lambda kv: -kv[1])))
print("softirqs/s: " + ", ".join(f"{k} {v}" for k, v in sorted(soft.items(), key=lambda kv: -kv[1])))
print(f"{'thread':32}{'tid':>7}{'switches':>10}{'/s':>8}")
for t in threads[:top]:
    print(f"{t['name'][:31]:32}{t['tid']:>7}{t['switches']:>10}{t['per_s']:>8.2f}")
json.dump(r, open(f"{out_dir}/idle-wakeups.json", "w"), indent=2)
print(f"written: {out_dir}/idle-wakeups.json")
PY
