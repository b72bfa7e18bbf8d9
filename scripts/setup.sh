#!/usr/bin/env bash
# Installs every Debian package hull's build, tests, demo and benchmarks need.
# Idempotent and quick when everything is there: it asks dpkg first and runs
# `apt-get update` only when something is missing.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config git clang libclang-rt-14-dev clang-format ccache
  libseccomp-dev libcap-ng-dev nlohmann-json3-dev libcli11-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc libmnl-dev
  libgtest-dev libgmock-dev
  # containerd's own .proto files for the shim (shim/proto, ttrpc/): containerd 1.6's
  # task API, gogoproto options, google.rpc.Status, cgroups v2 metrics
  golang-github-containerd-containerd-dev golang-github-gogo-protobuf-dev
  golang-github-gogo-googleapis-dev golang-github-containerd-cgroups-dev
  # guest kernel and initrd (guest-image/build.sh)
  linux-source-6.1 bc flex bison libelf-dev libssl-dev xz-utils cpio lz4 busybox-static
  # running sandboxes
  qemu-system-x86 qemu-system-common
  # tests and benchmarks
  bats jq python3 util-linux iproute2 procps file bsdutils shellcheck
  # e2e suites (tests/e2e) and the conformance run (scripts/conformance.sh)
  containerd runc docker.io podman golang-go golang-github-opencontainers-runtime-tools-dev
  golang-github-google-uuid-dev containernetworking-plugins
)

# The unprivileged user QEMU and hull-vsock run as (config jail.user,
# docs/security.md). A system user with no home and no login shell.
ensure_jail_user() {
  getent passwd hull >/dev/null && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: the jail user hull does not exist; run this script as root (or with sudo)" >&2
    return 1
  fi
  echo "setup: creating the system user hull (QEMU and hull-vsock run as it)" >&2
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin --comment "hull VM processes" hull
}

# One dpkg-query for all of them (one per package took most of a minute on a
# busy machine); a package dpkg has never heard of is missing too. dpkg-query
# exits 1 when it knows some name not at all (a fresh machine): not an error.
installed=" $({ dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${packages[@]}" 2>/dev/null ||
  true; } | awk '$2 == "installed" { printf "%s ", $1 }')"
missing=()
for p in "${packages[@]}"; do
  [[ $installed == *" $p "* ]] || missing+=("$p")
done

ensure_jail_user

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages: ${missing[*]}; run this script as root (or with sudo)" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
