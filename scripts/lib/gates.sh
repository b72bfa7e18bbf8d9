# shellcheck shell=bash disable=SC2154  # top, build, logs, suite_timeout, fuzz_seconds: test.sh's
# Gates of scripts/test.sh: checks of the whole tree that each count as one
# test (one pass or one failure) in its "N passed, N failed" line. Sourced by
# test.sh, which provides $top, $build, $logs and count_gate.
#
#   gate-format      every tracked C/C++ file matches .clang-format
#   gate-shellcheck  every tracked shell script passes shellcheck
#   gate-asan        the unit suites build with ASan+UBSan (they run there)
#   fuzz-<target>    each libFuzzer target, built and run for a while
#
# Each gate_* function prints what failed and returns non-zero on failure.

# Indents a report under its gate's line.
indent() { sed 's/^/   | /'; }

# The C and C++ files git tracks (build directories are never tracked).
cxx_files() {
  git -C "$top" ls-files -z -- '*.c' '*.cc' '*.cpp' '*.h' '*.hpp'
}

gate_format() {
  local out rc bad
  command -v clang-format >/dev/null || { echo "   clang-format is not installed (scripts/setup.sh installs it)"; return 1; }
  out=$(cxx_files | xargs -0 clang-format --dry-run --Werror 2>&1)
  rc=$?
  bad=$(sed -n 's/^\(.*\):[0-9]*:[0-9]*: \(warning\|error\): code should be clang-formatted.*/\1/p' <<<"$out" | sort -u)
  [ "$rc" -eq 0 ] && return 0
  if [ -z "$bad" ]; then
    echo "   clang-format failed:"
    head -20 <<<"$out" | indent
    return 1
  fi
  echo "   these files differ from what .clang-format asks for:"
  indent <<<"$bad"
  echo "   fix them with: clang-format -i $(tr '\n' ' ' <<<"$bad")"
  return 1
}

# The shell scripts git tracks: *.sh, *.bash, *.bats, and the files under
# scripts/ without an extension whose first line runs sh or bash (hooks).
shell_files() {
  git -C "$top" ls-files -- '*.sh' '*.bash' '*.bats'
  git -C "$top" ls-files -- scripts | while IFS= read -r f; do
    [[ $(basename "$f") == *.* ]] && continue
    head -n1 "$top/$f" | grep -qE '^#!.*[/ ](ba)?sh$' && echo "$f"
  done
}

gate_shellcheck() {
  local files
  command -v shellcheck >/dev/null || { echo "   shellcheck is not installed (scripts/setup.sh installs it)"; return 1; }
  mapfile -t files < <(shell_files)
  # -x follows `source` lines; from the top so that their paths resolve.
  (cd "$top" && shellcheck -x "${files[@]}") >"$logs/shellcheck.log" 2>&1 && return 0
  echo "   shellcheck reports (fix them, or disable one check on one line with the reason beside it):"
  (cd "$top" && shellcheck -x -f gcc "${files[@]}") 2>&1 | head -40 | indent
  echo "   with the suggested fixes: $logs/shellcheck.log"
  return 1
}

# test.sh's trees are unity builds (CMAKE_UNITY_BUILD): each target compiles
# its sources eight to a file, so the gRPC, protobuf, JSON, CLI11 and
# GoogleTest headers that make up most of a source's compile time are parsed
# once per eight. Two sources of one target must therefore not define the same
# name at file scope (an anonymous namespace is per file only without unity).

# Compiler launcher for the gate builds: ccache when it is installed.
launcher_args() {
  if command -v ccache >/dev/null; then
    echo "-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
  fi
}

# The unit-* targets CMake knows in build tree $1, but the *-static one:
# the sanitizer runtimes do not link -static (unit-agent-engine runs the same
# objects dynamically linked).
unit_targets() {
  all_unit_targets "$1" | grep -v -- '-static$'
}

# Every unit-* target CMake knows in build tree $1.
all_unit_targets() {
  # The target list of Makefiles ("... unit-x") or Ninja ("unit-x: phony").
  cmake --build "$1" --target help 2>/dev/null |
    sed -n -E 's/^(\.\.\. )?(unit-[A-Za-z0-9_-]+)(:.*)?$/\2/p' | sort -u
}

# Configures and builds the unit suites with ASan+UBSan in $build-asan.
# Output goes to the caller's stdout (a log); the status is the build's.
asan_build() {
  local abuild=$build-asan
  # shellcheck disable=SC2046  # launcher_args is zero or two words
  cmake -S "$top" -B "$abuild" -DCMAKE_BUILD_TYPE=Debug -DHULL_SANITIZE=ON -DCMAKE_UNITY_BUILD=ON \
    $(launcher_args) || return
  [ -n "$(unit_targets "$abuild")" ] || { echo "CMake lists no unit-* targets in $abuild"; return 1; }
  cmake --build "$abuild" -j"$(nproc)" --target all-unit-suites
}

# Configures and builds the fuzz targets named in $@ with clang in $build-fuzz.
fuzz_build() {
  # shellcheck disable=SC2046  # launcher_args is zero or two words
  cmake -S "$top" -B "$build-fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
    -DCMAKE_CXX_COMPILER=clang++ -DHULL_FUZZ=ON $(launcher_args) || return
  cmake --build "$build-fuzz" -j"$(nproc)" --target "$@"
}

# The selected fuzz targets.
wanted_fuzz_targets() {
  local t
  fuzz_targets | while read -r t; do wants "$t" && echo "$t"; done
}

# Starts the gates' own builds (the ASan tree, the fuzz tree) in the
# background at the lowest CPU priority, so that they take only the CPU the
# main build and the VM suites leave idle (a VM suite keeps about one core
# busy); their gates wait for them. Each writes its log and, when done, its
# exit status to $logs/<name>-build.{log,rc}.
# Each runs in its own process group (set -m), which stop_gate_builds ends
# when test.sh exits before its gate waited for it.
start_gate_builds() {
  local targets=()
  set -m
  if wants gate-asan || wants_any unit-; then
    (renice -n 19 -p "$BASHPID" >/dev/null; asan_build >"$logs/asan-build.log" 2>&1; echo $? >"$logs/asan-build.rc") &
    asan_build_pid=$!
  fi
  mapfile -t targets < <(wanted_fuzz_targets)
  if [ ${#targets[@]} -gt 0 ] && command -v clang++ >/dev/null; then
    (renice -n 19 -p "$BASHPID" >/dev/null; fuzz_build "${targets[@]}" >"$logs/fuzz-build.log" 2>&1; echo $? >"$logs/fuzz-build.rc") &
    fuzz_build_pid=$!
  fi
  set +m
  trap stop_gate_builds EXIT
}

stop_gate_builds() {
  local pid
  for pid in ${asan_build_pid:-} ${fuzz_build_pid:-} ${kernel_build_pid:-}; do
    kill -0 "$pid" 2>/dev/null && kill -- "-$pid" 2>/dev/null
  done
  return 0
}

# wait_gate_build NAME PID: waits for a background build; its status.
wait_gate_build() {
  local t0
  t0=$(date +%s)
  [ -n "$2" ] && wait "$2"
  case $1 in asan) asan_build_pid= ;; fuzz) fuzz_build_pid= ;; esac
  echo "   $1 build: waited $(($(date +%s) - t0)) s for it"
  [ -f "$logs/$1-build.rc" ] && [ "$(cat "$logs/$1-build.rc")" -eq 0 ]
}

# gate-asan: the ASan+UBSan tree of the unit suites (started by
# start_gate_builds) built. The suites then run in it (scripts/lib/suites.sh),
# each counted, a sanitizer report failing its suite.
gate_asan() {
  wait_gate_build asan "${asan_build_pid:-}" && return 0
  echo "   configuring or building the unit suites with ASan+UBSan failed (log: $logs/asan-build.log):"
  grep -E 'error|Error' "$logs/asan-build.log" | head -20 | indent
  return 1
}

# The libFuzzer targets named in tests/fuzz/CMakeLists.txt.
fuzz_targets() {
  sed -n 's/.*add_executable(\(fuzz-[a-z0-9-]*\).*/\1/p' "$top/tests/fuzz/CMakeLists.txt"
}

# run_fuzz_target NAME: one fuzz target for $fuzz_seconds, as one gate whose
# count goes to $logs/NAME.counts like a suite's (a job of run_jobs).
run_fuzz_target() {
  local t=$1 corpus=$build-fuzz/corpus/$1
  mkdir -p "$corpus"
  if "$build-fuzz/tests/$t" -max_total_time="$fuzz_seconds" -print_final_stats=1 "$corpus" \
      >"$logs/$t.log" 2>&1; then
    echo "1 0 0" >"$logs/$t.counts"
    echo "   $t: ok, no crash in ${fuzz_seconds}s"
  else
    echo "0 1 0" >"$logs/$t.counts"
    echo "   $t: FAILED, crashed or failed (log: $logs/$t.log)"
    grep -E '==ERROR|runtime error|Test unit written' "$logs/$t.log" | head -5 | indent
  fi
}

# Runs each fuzz target built by start_gate_builds for $fuzz_seconds,
# HULL_TEST_JOBS at a time; each target is one gate. Without clang, or when
# the build fails, that is one failure: the fuzz targets must not go unbuilt
# silently. Call before sum_suite_counts, which counts the targets' runs.
run_fuzz_gates() {
  local targets=()
  mapfile -t targets < <(wanted_fuzz_targets)
  [ ${#targets[@]} -gt 0 ] || return 0
  echo "== fuzz targets ($build-fuzz, ${fuzz_seconds}s each)"
  if ! command -v clang++ >/dev/null; then
    count_gate fuzz-build 1 "clang++ is not installed: the fuzz targets need it (scripts/setup.sh installs clang)"
    return
  fi
  if ! wait_gate_build fuzz "${fuzz_build_pid:-}"; then
    count_gate fuzz-build 1 "configuring or building the fuzz targets failed (log: $logs/fuzz-build.log)"
    tail -20 "$logs/fuzz-build.log" 2>/dev/null | indent
    return
  fi
  printf '%s\n' "${targets[@]}" | run_jobs run_fuzz_target
}
