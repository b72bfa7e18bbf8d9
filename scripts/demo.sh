#!/usr/bin/env bash
# The demo: installs what is missing, builds hull and its guest image, installs
# them under /usr/local (binaries in bin/, the guest kernel and initrd in
# share/hull/), then shows what hull does on this host.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${HULL_BUILD_DIR:-$PWD/build}

scripts/setup.sh
echo "== building hull ($build)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
if [ -f guest-image/build.sh ]; then
  echo "== building the guest image (the first build compiles a kernel: about 5 minutes)"
  cmake --build "$build" --target guest-image >/dev/null
fi
echo "== installing into /usr/local"
cmake --install "$build" >/dev/null

work=$(mktemp -d /tmp/hull-demo.XXXXXX)
root=$work/state
cleanup() {
  # Nothing may outlive the demo: a failed run is force-deleted (VM, monitor, mounts).
  hull --root "$root" delete --force demo >/dev/null 2>&1 || true
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
echo "== a busybox bundle (Debian's busybox-static, no registry)"
tests/e2e/lib/busybox-rootfs.sh "$work/bundle/rootfs"
echo "== hull spec (a default config.json, like runc spec)"
hull spec --bundle "$work/bundle"
jq '.process.terminal = false
    | .process.args = ["sh", "-c", "echo hello from $(hostname) in a microVM: kernel $(uname -r), $(nproc) vCPU; head -1 /proc/meminfo"]' \
  "$work/bundle/config.json" >"$work/config.json" && mv "$work/config.json" "$work/bundle/config.json"
echo "== hull run: the container in its own microVM (hull-vsock + virtiofsd + QEMU, the agent as PID 1)"
start=$(date +%s%N)
hull --root "$root" run --bundle "$work/bundle" demo
end=$(date +%s%N)
echo "   (hull run took $(((end - start) / 1000000)) ms, VM boot to VM gone; nothing left:" \
  "$(find "$root/sandboxes" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l) sandboxes," \
  "$(find "$root" -mindepth 1 -maxdepth 1 ! -name sandboxes | wc -l) containers)"
echo "== hull check"
hull check
