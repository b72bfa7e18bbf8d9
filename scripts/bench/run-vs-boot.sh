#!/usr/bin/env bash
# scripts/bench/run-vs-boot.sh [--build DIR] [--runs N]
#
# What the runtime adds to a boot: `hull run` of a busybox /bin/true container against a
# bare boot of the same guest, alternated N times (default 10) so that a change in host
# load hits both alike. Reports the median and p10-p90 of
#   hull_run_s   `hull run` from its exec to its exit (stdout to /dev/null)
#   bare_boot_s  QEMU from its exec to its exit, booting with hull.test=poweroff: the agent
#                powers the guest off right after its ready line
#   ready_s      the guest's uptime at the agent's ready line in the bare boot
# and ratio = median hull_run_s / median bare_boot_s (issue 14's goal: <= 1.15).
# Prints a table and writes DIR/bench/run-vs-boot.json. Needs root.
#
# The bare boot's QEMU command line is hull's own, read from /proc of the QEMU of a
# container hull creates first (so accelerator, CPU model, machine, vCPUs, memory and its
# memfd backend, the balloon, kernel, initrd and kernel command line are the ones hull
# uses), with hull.test=poweroff appended to the kernel command line and these differences,
# all of which need the runtime:
#   - no vhost-user-vsock and no vhost-user-fs device (no hull-vsock, no virtiofsd), no
#     NICs, no QMP monitor; the console goes to a file in the temp dir as hull's does;
#   - QEMU runs as root in the caller's namespaces, not in hull's jail (own mount, IPC,
#     UTS and network namespaces, the jail user), with the same -sandbox option;
#   - the agent therefore connects to nobody and starts no container.
# Runs under the build tree's guest image and hull-vsock unless HULL_CONFIG / HULL_VSOCK
# say otherwise. Every container is deleted and the temp dir removed on exit.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib/bench.sh
. "$root/scripts/lib/bench.sh"
build=$root/build
runs=10
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=${2:?}; shift ;;
    --runs) runs=${2:?}; shift ;;
    -h | --help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-vs-boot.sh: unknown argument $1 (usage: run-vs-boot.sh [--build DIR] [--runs N])" >&2; exit 2 ;;
  esac
  shift
done
# shellcheck disable=SC2046  # seq prints one word per line
bench_hull run-vs-boot.sh rvb rvb-probe $(seq -f 'rvb-%g' "$runs")

bundle=$work/bundle
make_bench_bundle "$bundle" "$hull" /bin/true

# hull's QEMU command line, from a container that is created but not started.
"$hull" --root "$hull_root" create --bundle "$bundle" --pid-file "$work/probe.pid" rvb-probe \
  </dev/null >/dev/null
python3 - "$(cat "$work/probe.pid")" >"$work/qemu.argv" <<'PY'
import json, os, sys
monitor = int(sys.argv[1])
children = {}
for d in os.listdir("/proc"):
    if d.isdigit():
        try:
            ppid = int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        children.setdefault(ppid, []).append(int(d))
pending = [monitor]
while pending:
    p = pending.pop()
    argv = open(f"/proc/{p}/cmdline", "rb").read().split(b"\0")[:-1]
    if argv and os.path.basename(argv[0]).startswith(b"qemu-system"):
        json.dump([a.decode() for a in argv], sys.stdout)
        sys.exit(0)
    pending += children.get(p, [])
sys.exit(f"run-vs-boot.sh: no QEMU under the monitor (pid {monitor}) of the probe container")
PY
"$hull" --root "$hull_root" delete -f rvb-probe >/dev/null

# The kernel and initrd as the host sees them (QEMU sees them bound into its jail).
config=${HULL_CONFIG:-/etc/hull/config.json}
kernel=/usr/local/share/hull/vmlinux
initrd=/usr/local/share/hull/initrd.img
if [ -f "$config" ]; then
  kernel=$(jq -r --arg d "$kernel" '.vm.kernel // $d' "$config")
  initrd=$(jq -r --arg d "$initrd" '.vm.initrd // $d' "$config")
fi

mkdir -p "$build/bench"
python3 - "$hull" "$hull_root" "$bundle" "$runs" "$work" "$kernel" "$initrd" \
  "$build/bench/run-vs-boot.json" <<'PY'
import json, os, re, shutil, statistics, subprocess, sys, time

hull, hull_root, bundle, runs, work, kernel, initrd, out_json = sys.argv[1:]
runs = int(runs)
hull_argv = json.load(open(os.path.join(work, "qemu.argv")))

# hull's QEMU options with a value, and which of them need the runtime.
with_value = {"-name", "-accel", "-cpu", "-machine", "-M", "-smp", "-m", "-object", "-numa",
              "-global", "-device", "-kernel", "-initrd", "-append", "-add-fd", "-chardev",
              "-serial", "-mon", "-netdev", "-sandbox"}
console = os.path.join(work, "bare-console.log")
qemu = hull_argv[0] if os.access(hull_argv[0], os.X_OK) else shutil.which("qemu-system-x86_64")
bare = [qemu]
i = 1
while i < len(hull_argv):
    opt = hull_argv[i]
    val = hull_argv[i + 1] if opt in with_value else None
    i += 2 if opt in with_value else 1
    if opt in ("-add-fd", "-chardev", "-serial", "-mon", "-netdev"):
        continue
    if opt == "-device" and re.match(r"(vhost-user-|virtio-net)", val):
        continue
    if opt == "-kernel":
        val = kernel
    elif opt == "-initrd":
        val = initrd
    elif opt == "-append":
        val += " hull.test=poweroff"
    bare += [opt] if val is None else [opt, val]
bare += ["-chardev", f"file,id=console,path={console}", "-serial", "chardev:console"]
cmdline = bare[bare.index("-append") + 1]

def hull_run(n):
    t0 = time.monotonic()
    p = subprocess.run([hull, "--root", hull_root, "run", "--bundle", bundle, f"rvb-{n}"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=300)
    t = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit(f"run-vs-boot.sh: hull run failed ({p.returncode}): "
                 f"{p.stderr.decode(errors='replace').strip()}")
    return t

def bare_boot():
    t0 = time.monotonic()
    p = subprocess.run(bare, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=300)
    t = time.monotonic() - t0
    log = open(console, errors="replace").read()
    m = re.search(r"hull-agent ready (\d+\.\d+)", log)
    if p.returncode != 0 or not m or "powering off" not in log:
        sys.exit(f"run-vs-boot.sh: bare boot did not power off (QEMU status {p.returncode}, "
                 f"{p.stderr.decode(errors='replace').strip()}); console:\n{log[-2000:]}\n"
                 f"command: {' '.join(bare)}")
    return t, float(m.group(1))

def pct(values, q):
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)

load_before = os.getloadavg()
hull_s, bare_s, ready_s = [], [], []
for n in range(1, runs + 1):
    # Round-robin, and which goes first alternates too.
    if n % 2:
        hull_s.append(hull_run(n))
        b = bare_boot()
    else:
        b = bare_boot()
        hull_s.append(hull_run(n))
    bare_s.append(b[0])
    ready_s.append(b[1])
load_after = os.getloadavg()

def summary(v):
    return {"median": statistics.median(v), "p10": pct(v, 0.1), "p90": pct(v, 0.9),
            "runs": [round(x, 4) for x in v]}

res = {"hull_run_s": summary(hull_s), "bare_boot_s": summary(bare_s),
       "ready_s": summary(ready_s)}
ratio = res["hull_run_s"]["median"] / res["bare_boot_s"]["median"]
accel = bare[bare.index("-accel") + 1]
mem = bare[bare.index("-m") + 1]
smp = bare[bare.index("-smp") + 1]
print(f"hull run /bin/true vs bare boot (hull.test=poweroff), {runs} runs alternated, "
      f"accel {accel}, -m {mem}, -smp {smp}")
print(f"host load (1/5/15 min) before {' '.join(f'{x:.2f}' for x in load_before)}, "
      f"after {' '.join(f'{x:.2f}' for x in load_after)}")
print(f"{'':34}{'median':>10}{'p10':>10}{'p90':>10}")
for key, label in (("hull_run_s", "hull run /bin/true (s)"),
                   ("bare_boot_s", "bare boot, QEMU exec to exit (s)"),
                   ("ready_s", "  guest uptime at ready line (s)")):
    r = res[key]
    print(f"{label:34}{r['median']:>10.3f}{r['p10']:>10.3f}{r['p90']:>10.3f}")
print(f"{'ratio hull run / bare boot':34}{ratio:>10.2f}   (goal <= 1.15)")

with open(out_json, "w") as f:
    json.dump({"bench": "run-vs-boot", "runs": runs, "accel": accel, "memory": mem,
               "vcpus": smp, "kernel_cmdline": cmdline,
               "load_before": [round(x, 2) for x in load_before],
               "load_after": [round(x, 2) for x in load_after],
               "ratio": ratio, "results": res, "hull_qemu_argv": hull_argv,
               "bare_qemu_argv": bare}, f, indent=2)
print(f"written: {out_json}")
PY
