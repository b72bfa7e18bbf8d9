#!/usr/bin/env bash
# scripts/bench/sandbox.sh [--build DIR] [--runs N] [--idle N] [--tb-sizes "0 16 64 256"]
#
# Sandbox start time and memory (real VMs: TCG unless KVM is usable):
#   - median over N runs (default 5) of the time from Sandbox::start() to the agent's Health
#     answer, split into host steps: before QEMU exec (dirs, shared mount, hull-vsock,
#     virtiofsd), QEMU exec -> guest kernel start, kernel -> agent ready, agent ready ->
#     Health answered; plus start() total and stop();
#   - with N idle sandboxes up (default 8), PSS per sandbox of QEMU, virtiofsd (with the
#     worker it forks) and hull-vsock, each and total: Pss, Pss_Anon, Pss_Shmem (smaps_rollup).
# Repeated for each QEMU TCG translation-buffer size in --tb-sizes (-accel tcg,tb-size=MiB;
# 0 = QEMU's default). Prints one table per size and writes DIR/bench/sandbox.json.
# Builds bench-sandbox, hull-vsock and the guest image first.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$root/build
runs=5
idle=8
tb_sizes="0 16 64 256"
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=${2:?}; shift ;;
    --runs) runs=${2:?}; shift ;;
    --idle) idle=${2:?}; shift ;;
    --tb-sizes) tb_sizes=${2:?}; shift ;;
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "sandbox.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

cmake -S "$root" -B "$build" >/dev/null
cmake --build "$build" -j"$(nproc)" --target bench-sandbox hull-vsock >/dev/null
if [[ ! -f $build/guest/vmlinux || ! -f $build/guest/initrd.img ]]; then
  cmake --build "$build" --target guest-image >/dev/null
fi

mkdir -p "$build/bench"
parts=()
for tb in $tb_sizes; do
  out=$build/bench/sandbox-tb$tb.json
  "$build/bench/bench-sandbox" --runs "$runs" --idle "$idle" --tb-size "$tb" --json "$out"
  echo
  parts+=("$out")
done

python3 - "$build/bench/sandbox.json" "${parts[@]}" <<'PY'
import json, sys
out, parts = sys.argv[1], sys.argv[2:]
results = [json.load(open(p)) for p in parts]
json.dump({"bench": "sandbox", "results": results}, open(out, "w"), indent=2)
print("summary (median ms / KiB per sandbox)")
print(f"  {'tb-size':>8} {'start':>8} {'qemu->kernel':>13} {'kernel->agent':>14} "
      f"{'qemu Pss':>9} {'qemu Anon':>10} {'total Pss':>10}")
for r in results:
    s, m = r["start_ms"], r["pss_kib_per_sandbox"]
    tb = r["tcg_tb_size_mib"] or "default"
    print(f"  {tb!s:>8} {s['start_total']['median']:8.0f} {s['qemu_to_kernel']['median']:13.0f} "
          f"{s['kernel_to_agent']['median']:14.0f} {m['qemu']['Pss']:9.0f} "
          f"{m['qemu']['Pss_Anon']:10.0f} {m['total']['Pss']:10.0f}")
print(f"wrote {out}")
PY
for p in "${parts[@]}"; do rm -f "$p"; done
