# shellcheck shell=bash disable=SC2154  # root: set by the sourcing script
# Helpers the scripts in scripts/bench/ share. Source it after setting `root`
# (the checkout's top directory).

# make_bench_bundle DIR HULL ARG...: an OCI bundle in DIR with a busybox
# rootfs and HULL's default spec, whose process runs ARG... without a
# terminal.
make_bench_bundle() {
  local dir=$1 hull=$2
  shift 2
  "$root/tests/e2e/lib/busybox-rootfs.sh" "$dir/rootfs" >/dev/null || return
  (cd "$dir" && "$hull" spec) || return
  jq '.process.terminal = false | .process.args = $ARGS.positional' \
    "$dir/config.json" --args "$@" >"$dir/config.json.new" &&
    mv "$dir/config.json.new" "$dir/config.json"
}

# bench_use_build_tree BUILD WORK: points hull at the guest image and
# hull-vsock of BUILD, as the e2e suites do, unless the caller set HULL_CONFIG
# or HULL_VSOCK: the benchmarks time the built hull, not an installed one. The
# configuration (/etc/hull/config.json's keys, the build's kernel and initrd)
# is written to WORK/hull-config.json.
bench_use_build_tree() {
  local build=$1 work=$2 base=/etc/hull/config.json
  if [ -z "${HULL_CONFIG:-}" ] && [ -f "$build/guest/vmlinux" ] &&
    [ -f "$build/guest/initrd.img" ]; then
    [ -f "$base" ] || base=/dev/null
    jq -n --slurpfile base <(cat "$base") --arg k "$build/guest/vmlinux" \
      --arg i "$build/guest/initrd.img" \
      '($base[0] // {}) | .vm.kernel = $k | .vm.initrd = $i' >"$work/hull-config.json" ||
      return
    export HULL_CONFIG=$work/hull-config.json
  fi
  if [ -z "${HULL_VSOCK:-}" ] && [ -x "$build/runtime/vsock/hull-vsock" ]; then
    export HULL_VSOCK=$build/runtime/vsock/hull-vsock
  fi
}

# bench_hull NAME TAG ID...: the start of a benchmark of the built hull, after
# its arguments set `build`. Needs root and BUILD's hull, which it sets
# `hull` to; makes the temp dir `work` (/tmp/hull-bench-TAG.XXXXXX) with the
# runtime root `hull_root` in it, removed on exit after the containers ID...
# (bench_cleanup); then bench_use_build_tree. NAME starts its error lines.
bench_hull() {
  local name=$1 tag=$2 given=$build
  shift 2
  # Absolute: make_bench_bundle runs hull from the bundle's directory.
  build=$(cd "$given" 2>/dev/null && pwd) || {
    echo "$name: no build tree at $given" >&2
    exit 1
  }
  hull=$build/runtime/cli/hull
  [ "$(id -u)" -eq 0 ] || { echo "$name: needs root" >&2; exit 1; }
  [ -x "$hull" ] || {
    echo "$name: no hull at $hull: cmake --build $build --target hull hull-vsock guest-image" >&2
    exit 1
  }
  work=$(mktemp -d "/tmp/hull-bench-$tag.XXXXXX")
  hull_root=$work/hull-root
  bench_containers=("$@")
  trap bench_cleanup EXIT
  bench_use_build_tree "$build" "$work"
}

# The exit trap of bench_hull: deletes its containers, removes its temp dir.
# A script with more to undo traps its own function, which ends with this.
bench_cleanup() {
  local id
  for id in "${bench_containers[@]}"; do
    "$hull" --root "$hull_root" delete -f "$id" >/dev/null 2>&1 || true
  done
  rm -rf --one-file-system "$work"
}
