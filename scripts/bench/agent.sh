#!/usr/bin/env bash
# scripts/bench/agent.sh [--build DIR] [--runs N]
#
# Container operations through the agent inside one running sandbox (real VM:
# TCG unless KVM is usable), against runc on the host in the same run:
#   - median over N runs (default 20) of CreateContainer+StartContainer+WaitProcess of
#     /bin/true, and of ExecProcess /bin/true + WaitProcess into a running container;
#     runc: `runc run` and `runc exec` of the same busybox bundle;
#   - stdout throughput (MB/s) of `cat` of a 64 MiB file: hull through the ReadStdout
#     stream, runc through a pipe;
#   - hull/runc ratios.
# Prints a table and writes DIR/bench/agent.json. Builds bench-agent, hull-vsock and the
# guest image first. Needs root, /bin/busybox (busybox-static) and /usr/sbin/runc.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$root/build
runs=20
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=${2:?}; shift ;;
    --runs) runs=${2:?}; shift ;;
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "agent.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

cmake -S "$root" -B "$build" >/dev/null
cmake --build "$build" -j"$(nproc)" --target bench-agent hull-vsock >/dev/null
cmake --build "$build" --target guest-image >/dev/null

mkdir -p "$build/bench"
"$build/bench/bench-agent" --runs "$runs" --json "$build/bench/agent.json"
