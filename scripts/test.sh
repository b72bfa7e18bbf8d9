#!/usr/bin/env bash
# Installs what is missing, builds everything (binaries, tests, guest image),
# runs every test suite and ends with one line: "N passed, N failed".
#
#   scripts/test.sh            all suites
#   HULL_TESTS="unit-*" scripts/test.sh    only suites whose name matches
#
# Suites: build/tests/unit-* (GoogleTest, no VM), build/tests/integration-*
# (GoogleTest, real VMs under TCG or KVM), tests/e2e/*.bats (real docker,
# podman, containerd), and the libFuzzer targets for a short run when clang
# is installed. Logs of every suite land in build/test-logs/.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
build=${HULL_BUILD_DIR:-$top/build}
logs=$build/test-logs
pattern=${HULL_TESTS:-*}
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

scripts/setup.sh || die "installing packages failed"

echo "== build ($build)"
mkdir -p "$build"  # its logs go inside it, not beside it in the checkout
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log" >&2; die "cmake configure failed"; }
cmake --build "$build" -j"$(nproc)" >"$build/build.log" 2>&1 ||
  { tail -50 "$build/build.log" >&2; die "build failed (full log: $build/build.log)"; }
if [ -f guest-image/build.sh ]; then
  cmake --build "$build" --target guest-image >"$build/guest.log" 2>&1 ||
    { tail -50 "$build/guest.log" >&2; die "guest image build failed (full log: $build/guest.log)"; }
fi
rm -rf "$logs" && mkdir -p "$logs"

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
  # shellcheck disable=SC2053
  [[ $name == $pattern ]] || return 0
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

# bats end-to-end suites (real docker, podman, containerd, runc-style CLI tests)
for suite in tests/e2e/*.bats; do
  [ -f "$suite" ] || continue
  name=e2e-$(basename "$suite" .bats)
  # shellcheck disable=SC2053
  [[ $name == $pattern ]] || continue
  echo "== $name"
  log=$logs/$name.log
  HULL_BUILD_DIR=$build timeout -k 10 "$suite_timeout" bats --tap "$suite" >"$log" 2>&1
  rc=$?
  [ "$rc" -eq 124 ] && echo "   TIMED OUT after ${suite_timeout}s"
  p=$(grep -c '^ok ' "$log" || true)
  s=$(grep -c '^ok .*# skip' "$log" || true)
  f=$(grep -c '^not ok ' "$log" || true)
  p=$((p - s))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
  printf '   %d passed, %d failed, %d skipped\n' "$p" "$f" "$s"
done

# libFuzzer targets: a short run each, when clang is installed.
if command -v clang++ >/dev/null && [ -f tests/fuzz/CMakeLists.txt ] && [[ fuzz-x == $pattern ]]; then
  fbuild=$build-fuzz
  echo "== fuzz targets ($fbuild, ${fuzz_seconds}s each)"
  if cmake -S . -B "$fbuild" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
      -DCMAKE_CXX_COMPILER=clang++ -DHULL_FUZZ=ON >"$logs/fuzz-configure.log" 2>&1 &&
     targets=$(sed -n 's/.*add_executable(\(fuzz-[a-z0-9-]*\).*/\1/p' tests/fuzz/CMakeLists.txt) &&
     cmake --build "$fbuild" -j"$(nproc)" --target $targets >"$logs/fuzz-build.log" 2>&1; then
    for t in $targets; do
      corpus=$fbuild/corpus/$t && mkdir -p "$corpus"
      if "$fbuild/tests/$t" -max_total_time="$fuzz_seconds" -print_final_stats=1 "$corpus" \
          >"$logs/$t.log" 2>&1; then
        passed=$((passed + 1)); echo "   $t: no crash in ${fuzz_seconds}s"
      else
        failed=$((failed + 1)); echo "   $t: FAILED (log: $logs/$t.log)"
      fi
    done
  else
    failed=$((failed + 1)); echo "   building the fuzz targets failed (logs in $logs)"
  fi
fi

echo "== total time $(($(date +%s) - start)) s"
if [ "$skipped" -ne 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
