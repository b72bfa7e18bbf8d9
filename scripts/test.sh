#!/usr/bin/env bash
# Installs what is missing, builds everything (binaries, tests, guest image),
# runs every test suite and gate and ends with one line: "N passed, N failed".
#
#   scripts/test.sh                          all suites and gates
#   HULL_TESTS="unit-* gate-*" scripts/test.sh    only those whose name matches
#                                            one of the patterns
#
# Suites: build/tests/unit-* (GoogleTest, no VM), build/tests/integration-*
# (GoogleTest, real VMs under TCG or KVM), tests/e2e/*.bats as e2e-* (real
# docker, podman, containerd), tests/scripts/*.bats as scripts-*. Gates, one
# pass or failure each (scripts/lib/gates.sh): gate-format, gate-shellcheck,
# gate-asan (the unit suites under ASan+UBSan) and fuzz-* (a short run of
# each libFuzzer target). Logs of every suite land in build/test-logs/.
set -uo pipefail
cd "$(dirname "$0")/.." || exit
top=$(pwd)
build=${HULL_BUILD_DIR:-$top/build}
logs=$build/test-logs
read -ra patterns <<<"${HULL_TESTS:-*}"
fuzz_seconds=${HULL_FUZZ_SECONDS:-20}
# A hung suite must not eat CI's time: each suite, and each bats test, has a limit.
suite_timeout=${HULL_SUITE_TIMEOUT:-1500}
export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-300}

passed=0
failed=0
skipped=0
start=$(date +%s)

die() {
  echo "test.sh: $*" >&2
  echo "$passed passed, $((failed + 1)) failed"
  exit 1
}

# wants NAME: whether HULL_TESTS selects the suite or gate NAME.
wants() {
  local p
  # shellcheck disable=SC2053  # the patterns are globs
  for p in "${patterns[@]}"; do [[ $1 == $p ]] && return 0; done
  return 1
}

# count_gate NAME RC [WHAT]: counts one gate as passed (RC 0) or failed.
count_gate() {
  if [ "$2" -eq 0 ]; then
    passed=$((passed + 1)); echo "   $1: ok${3:+, $3}"
  else
    failed=$((failed + 1)); echo "   $1: FAILED${3:+, $3}"
  fi
}

# run_gate NAME FUNCTION: runs one gate of scripts/lib/gates.sh when selected.
run_gate() {
  local t0 rc
  wants "$1" || return 0
  echo "== $1"
  t0=$(date +%s)
  "$2"
  rc=$?
  count_gate "$1" "$rc" "$(($(date +%s) - t0)) s"
}

# shellcheck source=scripts/lib/gates.sh
. scripts/lib/gates.sh

t0=$(date +%s)
scripts/setup.sh || die "installing packages failed"
echo "== setup: $(($(date +%s) - t0)) s"
mkdir -p "$build"  # its logs go inside it, not beside it in the checkout
rm -rf "$logs" && mkdir -p "$logs"

# The gates that need no build come first: they answer in seconds.
run_gate gate-format gate_format
run_gate gate-shellcheck gate_shellcheck

# The ASan and fuzz trees build in the background from here on (gates.sh).
start_gate_builds

# build_all: the binaries, tests and guest image of the unit, integration and
# e2e suites. The gates, fuzz targets and scripts' tests need none of it.
build_all() {
  local t0
  t0=$(date +%s)
  echo "== build ($build)"
  # shellcheck disable=SC2046  # launcher_args is zero or two words
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release $(launcher_args) >"$build/configure.log" 2>&1 ||
    { cat "$build/configure.log" >&2; die "cmake configure failed"; }
  cmake --build "$build" -j"$(nproc)" >"$build/build.log" 2>&1 ||
    { tail -50 "$build/build.log" >&2; die "build failed (full log: $build/build.log)"; }
  echo "   binaries and tests: $(($(date +%s) - t0)) s"
  if [ -f guest-image/build.sh ]; then
    t0=$(date +%s)
    cmake --build "$build" --target guest-image >"$build/guest.log" 2>&1 ||
      { tail -50 "$build/guest.log" >&2; die "guest image build failed (full log: $build/guest.log)"; }
    echo "   guest image: $(($(date +%s) - t0)) s"
  fi
}
for p in "${patterns[@]}"; do
  case $p in
    gate-* | fuzz-* | scripts-*) ;;
    *) build_all; break ;;
  esac
done

# count LOG RC: adds one GoogleTest suite's results to the totals.
count_gtest() {
  local log=$1 rc=$2 p f s
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*listed below.*/\1/p' "$log" | tail -1)
  s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  p=${p:-0} f=${f:-0} s=${s:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi  # crashed or exited early
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
  printf '   %d passed, %d failed, %d skipped\n' "$p" "$f" "$s"
  if [ "$f" -ne 0 ]; then grep -E '^\[  FAILED  \]|Failure|error:' "$log" | head -20 | sed 's/^/   | /'; fi
}

run_gtest_suite() {
  local bin=$1 name log rc t0
  name=$(basename "$bin")
  wants "$name" || return 0
  log=$logs/$name.log
  t0=$(date +%s)
  echo "== $name"
  timeout -k 10 "$suite_timeout" "$bin" --gtest_color=no >"$log" 2>&1
  rc=$?
  [ "$rc" -eq 124 ] && echo "   TIMED OUT after ${suite_timeout}s"
  count_gtest "$log" "$rc"
  echo "   ($(($(date +%s) - t0)) s, log: $log)"
}

for bin in "$build"/tests/unit-*; do
  [ -x "$bin" ] && run_gtest_suite "$bin"
done
for bin in "$build"/tests/integration-*; do
  [ -x "$bin" ] && run_gtest_suite "$bin"
done

# bats suites: end to end (real docker, podman, containerd, runc-style CLI
# tests) as e2e-*, and the tests of the scripts themselves as scripts-*.
for suite in tests/e2e/*.bats tests/scripts/*.bats; do
  [ -f "$suite" ] || continue
  name=$(basename "$(dirname "$suite")")-$(basename "$suite" .bats)
  wants "$name" || continue
  echo "== $name"
  log=$logs/$name.log
  t0=$(date +%s)
  HULL_BUILD_DIR=$build timeout -k 10 "$suite_timeout" bats --tap --timing "$suite" >"$log" 2>&1
  rc=$?
  [ "$rc" -eq 124 ] && echo "   TIMED OUT after ${suite_timeout}s"
  p=$(grep -c '^ok ' "$log" || true)
  s=$(grep -c '^ok .*# skip' "$log" || true)
  f=$(grep -c '^not ok ' "$log" || true)
  p=$((p - s))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
  printf '   %d passed, %d failed, %d skipped\n' "$p" "$f" "$s"
  if [ "$f" -ne 0 ]; then grep '^not ok ' "$log" | head -20 | sed 's/^/   | /'; fi
  echo "   ($(($(date +%s) - t0)) s, log: $log)"
done

run_gate gate-asan gate_asan
run_fuzz_gates

echo "== total time $(($(date +%s) - start)) s"
if [ "$skipped" -ne 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
