#!/usr/bin/env bash
# scripts/bench/guest-boot.sh [--build DIR] [--boots N] [--memory SIZE] [--compare-compression]
#                             [--baseline-busybox]
#
# Boots the guest image in DIR/guest (default: build/guest) N times (default 10) in QEMU
# microvm (ACPI on, PVH, TCG unless KVM is usable, tsc_early_khz under TCG) and reports the
# median, p10 and p90 of:
#   ready_s     QEMU start to the agent's "hull-agent ready" line (host clock)
#   uptime_s    the guest's own uptime at that line (the number in it)
#   rss_mib     QEMU peak RSS (VmHWM)
#   touched_mib guest RAM touched after boot: Pss_Shmem of QEMU (/proc/PID/smaps_rollup),
#               guest RAM being a memory-backend-memfd,share=on (read 300 ms after ready)
#   settled_mib the same 3 s after ready, when free page reporting (virtio-balloon, as hull's
#               launcher sets it up) has handed the freed initrd pages back to the host
# plus the initrd's size and compression. Writes DIR/bench/guest-boot.json.
#
#   --compare-compression  also boot the same initrd repacked as none, lz4 and gzip
#   --baseline-busybox     also boot the same kernel with a busybox /init that mounts proc,
#                          sys and dev and prints the ready line (the reference the agent
#                          is held to: at most +100 ms and +10 MiB)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$root/build
boots=10
memory=256M
compare=0
baseline=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=${2:?}; shift ;;
    --boots) boots=${2:?}; shift ;;
    --memory) memory=${2:?}; shift ;;
    --compare-compression) compare=1 ;;
    --baseline-busybox) baseline=1 ;;
    -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "guest-boot.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
guest=$build/guest
for f in vmlinux initrd.img manifest.json; do
  [[ -r $guest/$f ]] || {
    echo "guest-boot.sh: $guest/$f missing; build it: cmake --build $build --target guest-image" >&2
    exit 1
  }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/hull-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The initrd variants to boot: "label path compression".
variants=$work/variants
compression=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["initrd"]["compression"])' "$guest/manifest.json")
echo "agent $guest/initrd.img $compression" >"$variants"
if [[ $compare == 1 ]]; then
  case $compression in
    none) cp "$guest/initrd.img" "$work/initrd.cpio" ;;
    lz4) lz4 -dc "$guest/initrd.img" >"$work/initrd.cpio" ;;
    gzip) gzip -dc "$guest/initrd.img" >"$work/initrd.cpio" ;;
  esac
  lz4 -q -l -9 -f "$work/initrd.cpio" "$work/initrd.lz4"
  gzip -n -9 -c "$work/initrd.cpio" >"$work/initrd.gz"
  {
    echo "agent-none $work/initrd.cpio none"
    echo "agent-lz4 $work/initrd.lz4 lz4"
    echo "agent-gzip $work/initrd.gz gzip"
  } >"$variants"
fi
if [[ $baseline == 1 ]]; then
  stage=$work/busybox-root
  mkdir -p "$stage"/{bin,dev,proc,sys,run,tmp}
  cp /bin/busybox "$stage/bin/busybox"
  ln -s busybox "$stage/bin/sh"
  cat >"$stage/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
read up idle </proc/uptime
echo "hull-agent ready $up"
exec /bin/busybox sleep 1000000
INIT
  chmod 755 "$stage/init"
  (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$work/busybox.cpio"
  echo "busybox-init $work/busybox.cpio none" >>"$variants"
fi

python3 - "$guest" "$boots" "$memory" "$variants" "$build/bench/guest-boot.json" <<'PY'
import json, os, re, select, statistics, subprocess, sys, time

guest, boots, memory, variants_file, out_json = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]

def kvm_usable():
    flags = open("/proc/cpuinfo").read()
    if not re.search(r"^flags\s*:.*\b(vmx|svm)\b", flags, re.M):
        return False
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
        return True
    except OSError:
        return False

def tsc_khz():
    # Same order as runtime/vm/tsc.cc: sysfs, kernel log, cpuinfo.
    try:
        return int(open("/sys/devices/system/cpu/cpu0/tsc_freq_khz").read())
    except OSError:
        pass
    try:
        log = subprocess.run(["dmesg"], capture_output=True, text=True, timeout=10).stdout
        m = re.findall(r"tsc: Refined TSC clocksource calibration: (\d+\.\d+) MHz", log) or \
            re.findall(r"tsc: Detected (\d+\.\d+) MHz", log)
        if m:
            return int(round(float(m[-1]) * 1000))
    except (OSError, subprocess.SubprocessError):
        pass
    m = re.search(r"^cpu MHz\s*:\s*([\d.]+)", open("/proc/cpuinfo").read(), re.M)
    return int(round(float(m.group(1)) * 1000))

kvm = kvm_usable()
cmdline = "console=ttyS0 quiet panic=-1 noreplace-smp"
if not kvm:
    cmdline += f" tsc_early_khz={tsc_khz()}"

def field_kib(path, name):
    for line in open(path):
        if line.startswith(name + ":"):
            return int(line.split()[1])
    return 0

def boot(initrd):
    argv = ["qemu-system-x86_64", "-M", "microvm,acpi=on", "-accel", "kvm" if kvm else "tcg",
            "-cpu", "host" if kvm else "max", "-m", memory, "-smp", "1",
            "-object", f"memory-backend-memfd,id=mem,size={memory},share=on",
            "-numa", "node,memdev=mem",
            # as hull's launcher: free page reporting hands pages the guest freed (the initrd
            # image after unpacking) back to the host
            "-global", "virtio-mmio.force-legacy=false",
            "-device", "virtio-balloon-device,free-page-reporting=on",
            "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
            "-kernel", os.path.join(guest, "vmlinux"), "-initrd", initrd,
            "-append", cmdline, "-serial", "stdio"]
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    try:
        deadline = t0 + 15
        ready = None
        buf = b""
        while ready is None and time.monotonic() < deadline:
            r, _, _ = select.select([p.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                break
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            m = re.search(rb"(?:^|\n)hull-agent ready (\d+\.\d+)\r?\n", buf)
            if m:
                ready = (time.monotonic() - t0, float(m.group(1)))
        if ready is None:
            raise RuntimeError("no ready line within 15 s")
        time.sleep(0.3)
        touched = field_kib(f"/proc/{p.pid}/smaps_rollup", "Pss_Shmem") / 1024
        # The guest reports freed pages about 2 s after freeing them (page_reporting_delay).
        time.sleep(2.7)
        settled = field_kib(f"/proc/{p.pid}/smaps_rollup", "Pss_Shmem") / 1024
        rss = field_kib(f"/proc/{p.pid}/status", "VmHWM") / 1024
        return {"ready_s": ready[0], "uptime_s": ready[1], "rss_mib": rss, "touched_mib": touched,
                "settled_mib": settled}
    finally:
        p.kill()
        p.wait()

def pct(values, q):
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)

variants = [line.split() for line in open(variants_file)]
# Round-robin over the variants, so a change in host load hits every variant alike.
runs = {label: [] for label, _, _ in variants}
for _ in range(boots):
    for label, path, _ in variants:
        runs[label].append(boot(path))
results = []
for label, path, comp in variants:
    row = {"variant": label, "initrd_bytes": os.path.getsize(path), "compression": comp,
           "boots": boots}
    for key in ("ready_s", "uptime_s", "rss_mib", "touched_mib", "settled_mib"):
        vals = [r[key] for r in runs[label]]
        row[key] = {"median": statistics.median(vals), "p10": pct(vals, 0.1), "p90": pct(vals, 0.9)}
    results.append(row)

print(f"guest boot, {boots} boots each, accel {'kvm' if kvm else 'tcg'}, -m {memory}, "
      f"QEMU microvm acpi=on, host load {os.getloadavg()[0]:.2f}")
hdr = f"{'variant':<14}{'initrd':>10}  {'comp':<5}" + "".join(
    f"{k + ' med (p10-p90)':>26}" for k in ("ready_s", "uptime_s", "rss_mib", "touched_mib",
                                            "settled_mib"))
print(hdr)
for r in results:
    cells = ""
    for k in ("ready_s", "uptime_s", "rss_mib", "touched_mib", "settled_mib"):
        v = r[k]
        fmt = "{:.3f}" if k.endswith("_s") else "{:.1f}"
        cells += f"{(fmt + ' (' + fmt + '-' + fmt + ')').format(v['median'], v['p10'], v['p90']):>26}"
    print(f"{r['variant']:<14}{r['initrd_bytes']:>10}  {r['compression']:<5}{cells}")

os.makedirs(os.path.dirname(out_json), exist_ok=True)
with open(out_json, "w") as f:
    json.dump({"accel": "kvm" if kvm else "tcg", "memory": memory, "cmdline": cmdline,
               "manifest": json.load(open(os.path.join(guest, "manifest.json"))),
               "results": results}, f, indent=2)
print(f"written: {out_json}")
PY
