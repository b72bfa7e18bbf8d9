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
