#!/usr/bin/env bash
# Installs what is missing, builds everything (binaries, tests, guest image),
# runs every test suite and gate and ends with one line: "N passed, N failed".
#
#   scripts/test.sh                          all suites and gates
#   HULL_TESTS="unit-* gate-*" scripts/test.sh    only those whose name matches
#                                            one of the patterns
#
# Suites: unit-* (GoogleTest, no VM; built with ASan+UBSan in build-asan/tests,
# but unit-agent-engine-static in build/tests), build/tests/integration-*
# (GoogleTest, real VMs under TCG or KVM), tests/e2e/*.bats as e2e-* (real
# docker, podman, containerd), tests/scripts/*.bats as scripts-*. Gates, one
# pass or failure each (scripts/lib/gates.sh): gate-format, gate-shellcheck,
# gate-asan (the unit suites' ASan+UBSan tree builds) and fuzz-* (a short run of
# each libFuzzer target). Logs of every suite land in build/test-logs/.
# HULL_TEST_JOBS=N runs N suites at a time (default 2; 1: one by one).
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

# wants_any PREFIX: whether HULL_TESTS may select a suite whose name starts
# with PREFIX (a pattern that matches PREFIXx, or that starts with PREFIX).
wants_any() {
  local p
  # shellcheck disable=SC2053  # the patterns are globs
  for p in "${patterns[@]}"; do [[ ${1}x == $p || $p == "$1"* ]] && return 0; done
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
# shellcheck source=scripts/lib/suites.sh
. scripts/lib/suites.sh

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

# The guest kernel (guest-image/kernel.sh, minutes when its cache is cold)
# builds beside the binaries: its unpacking, configuring and linking are
# serial steps that leave a core idle. The guest-image target then finds it in
# the kernel cache; a failure here shows again, with its log, in that target.
start_kernel_build() {
  [ -x guest-image/kernel.sh ] || return 0
  set -m
  (guest-image/kernel.sh "$build/kernel" >"$build/kernel.log" 2>&1) &
  kernel_build_pid=$!
  set +m
}

wait_kernel_build() {
  [ -n "${kernel_build_pid:-}" ] || return 0
  wait "$kernel_build_pid"
  kernel_build_pid=
}

# build_all: the binaries, tests and guest image of the unit, integration and
# e2e suites. The gates, fuzz targets and scripts' tests need none of it.
build_all() {
  local t0
  t0=$(date +%s)
  echo "== build ($build)"
  # The unit suites but the -static one build in the ASan tree only (gates.sh).
  # shellcheck disable=SC2046  # launcher_args is zero or two words
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DHULL_UNIT_TESTS_IN_ALL=OFF \
    -DCMAKE_UNITY_BUILD=ON $(launcher_args) \
    >"$build/configure.log" 2>&1 ||
    { cat "$build/configure.log" >&2; die "cmake configure failed"; }
  cmake --build "$build" -j"$(nproc)" >"$build/build.log" 2>&1 ||
    { tail -50 "$build/build.log" >&2; die "build failed (full log: $build/build.log)"; }
  echo "   binaries and tests: $(($(date +%s) - t0)) s"
  if [ -f guest-image/build.sh ]; then
    t0=$(date +%s)
    wait_kernel_build
    cmake --build "$build" --target guest-image >"$build/guest.log" 2>&1 ||
      { tail -50 "$build/guest.log" >&2; die "guest image build failed (full log: $build/guest.log)"; }
    echo "   guest image: $(($(date +%s) - t0)) s"
  fi
}
for p in "${patterns[@]}"; do
  case $p in
    gate-* | fuzz-* | scripts-*) ;;
    *) start_kernel_build; build_all; break ;;
  esac
done

# The VM suites and the scripts' tests as jobs side by side, then the unit
# suites in the ASan+UBSan tree that built meanwhile, then the fuzz targets,
# each of these HULL_TEST_JOBS at a time (scripts/lib/suites.sh, gates.sh).
run_suite_jobs
if wants gate-asan || wants_any unit-; then
  run_gate gate-asan gate_asan
fi
run_unit_suites
run_fuzz_gates
sum_suite_counts

echo "== total time $(($(date +%s) - start)) s"
if [ "$skipped" -ne 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
