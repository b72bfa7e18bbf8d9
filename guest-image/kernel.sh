#!/usr/bin/env bash
# guest-image/kernel.sh OUT_DIR
#
# Puts the guest kernel in OUT_DIR: vmlinux (ELF with the PVH entry note), kernel.config (the
# final .config) and kernel.env (KERNEL_PACKAGE, KERNEL_VERSION, KERNEL_CACHE_KEY, for the
# manifest). Called by guest-image/build.sh.
#
# The kernel comes from Debian's linux-source-6.1 package with guest-image/guest.config:
#   make tinyconfig; merge guest.config; make olddefconfig; check-config.sh (every line of the
#   fragment must survive); make -j$(nproc) vmlinux; readelf -n must show the PVH note.
# A build takes 4-5 minutes on 2 cores, so the result is cached outside the work tree in
#   ${XDG_CACHE_HOME:-$HOME/.cache}/hull/kernel/<key>/
# keyed by the package version, this script, check-config.sh, the fragment and the compiler.
# The source tree is unpacked in a temp dir under ${TMPDIR:-/var/tmp} and removed afterwards.
#
# Environment: HULL_KERNEL_SOURCE overrides the source tarball (default
# /usr/src/linux-source-6.1.tar.xz); HULL_KERNEL_NO_CACHE=1 rebuilds even on a cache hit.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 OUT_DIR" >&2
  exit 2
fi
out=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fragment=$here/guest.config
package=linux-source-6.1
tarball=${HULL_KERNEL_SOURCE:-/usr/src/$package.tar.xz}

die() {
  echo "kernel.sh: $*" >&2
  exit 1
}

version=$(dpkg-query -W -f='${Version}' "$package" 2>/dev/null) ||
  die "Debian package $package is not installed (apt-get install $package)"
[[ -r $tarball ]] || die "kernel source $tarball not found"
cc_version=$(gcc --version | head -n 1)
key=$({
  echo "$package $version"
  echo "$cc_version"
  sha256sum <"$fragment"
  sha256sum <"$here/kernel.sh"
  sha256sum <"$here/check-config.sh"
} | sha256sum | cut -c1-16)
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/hull/kernel
cache=$cache_root/$key

# The PVH entry point is an ELF note of owner "Xen", type 0x12 (XEN_ELFNOTE_PHYS32_ENTRY).
check_pvh_note() {
  readelf -n "$1" | grep -Eq 'Xen[[:space:]]+0x[0-9a-f]+[[:space:]]+.*(0x00000012|PHYS32_ENTRY)' ||
    die "$1 has no PVH entry note (Xen note type 0x12); QEMU cannot boot it directly"
}

build_kernel() {
  local tmp log src
  tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/hull-kernel.XXXXXX")
  # shellcheck disable=SC2064  # expand now: the trap must remove this very dir
  trap "rm -rf '$tmp'" EXIT
  log=$tmp/build.log
  src=$tmp/$package
  echo "kernel.sh: building $package $version (log: $log, cache key $key)" >&2
  fail_with_log() {
    echo "kernel.sh: $1; last lines of the build log:" >&2
    tail -n 40 "$log" >&2
    mkdir -p "$out"
    cp "$log" "$out/kernel-build.log"
    die "$1 (full log: $out/kernel-build.log)"
  }
  tar -xf "$tarball" -C "$tmp" || die "cannot unpack $tarball"
  export KBUILD_BUILD_USER=hull KBUILD_BUILD_HOST=hull
  export KBUILD_BUILD_TIMESTAMP="$package $version"
  (
    cd "$src"
    make tinyconfig
    scripts/kconfig/merge_config.sh -m .config "$fragment"
    make olddefconfig
  ) >"$log" 2>&1 || fail_with_log "kernel configuration failed"
  local lost
  if ! lost=$("$here/check-config.sh" "$fragment" "$src/.config"); then
    echo "kernel.sh: options of $fragment that did not survive make olddefconfig:" >&2
    echo "$lost" >&2
    die "fix the fragment (missing dependencies?) and run again"
  fi
  local start=$SECONDS
  (cd "$src" && make -j"$(nproc)" vmlinux) >>"$log" 2>&1 || fail_with_log "kernel build failed"
  echo "kernel.sh: kernel built in $((SECONDS - start)) s" >&2
  check_pvh_note "$src/vmlinux"

  # Publish atomically: a half-written cache entry must never look complete.
  mkdir -p "$cache_root"
  local stage
  stage=$(mktemp -d "$cache_root/.stage.XXXXXX")
  cp "$src/vmlinux" "$stage/vmlinux"
  cp "$src/.config" "$stage/kernel.config"
  cp "$log" "$stage/build.log"
  (cd "$stage" && sha256sum vmlinux kernel.config >SHA256SUMS)
  rm -rf "$cache"
  mv "$stage" "$cache"
}

if [[ ${HULL_KERNEL_NO_CACHE:-0} == 1 || ! -f $cache/SHA256SUMS ]]; then
  build_kernel
fi
(cd "$cache" && sha256sum --quiet -c SHA256SUMS) ||
  die "cache entry $cache is corrupt; remove it and run again"
check_pvh_note "$cache/vmlinux"

mkdir -p "$out"
cp "$cache/vmlinux" "$out/vmlinux.tmp" && mv "$out/vmlinux.tmp" "$out/vmlinux"
cp "$cache/kernel.config" "$out/kernel.config"
cat >"$out/kernel.env" <<ENV
KERNEL_PACKAGE=$package
KERNEL_VERSION=$version
KERNEL_CACHE_KEY=$key
ENV
