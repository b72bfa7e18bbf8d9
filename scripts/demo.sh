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
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bundle/rootfs"
echo "== hull spec (a default config.json, like runc spec)"
hull spec --bundle "$work/bundle"
head -c 300 "$work/bundle/config.json"; echo; echo "   ..."
echo "== hull check"
hull check
