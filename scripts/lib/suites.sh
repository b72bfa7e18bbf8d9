# shellcheck shell=bash disable=SC2154  # top, build, logs, suite_timeout: test.sh's
# The test suites of scripts/test.sh: how one is run and counted, and how the
# VM suites share the machine. Sourced by test.sh.
#
# Each suite writes its log to $logs/NAME.log and its counts ("passed failed
# skipped") to $logs/NAME.counts, and prints a report of a few lines; test.sh
# adds up the counts files at the end (sum_suite_counts).
#
# The VM suites (integration-*, e2e-*) and the scripts' tests run as jobs,
# HULL_TEST_JOBS at a time (default 2). A VM under TCG keeps about one core
# busy, and most of a suite's time is one VM booting or a daemon waiting, so
# two suites side by side use the two cores the serial run left half idle.
# Suites that share host state run one after the other inside one job (see
# suite_jobs). A job prints its suites' reports together when it ends.

# suite_report NAME LOG RC P F S T0: the report of one suite, and its counts.
suite_report() {
  local name=$1 log=$2 rc=$3 p=$4 f=$5 s=$6 t0=$7
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi  # crashed, or exited early
  echo "$p $f $s" >"$logs/$name.counts"
  echo "== $name"
  [ "$rc" -eq 124 ] && echo "   TIMED OUT after ${suite_timeout}s"
  printf '   %d passed, %d failed, %d skipped\n' "$p" "$f" "$s"
  if [ "$f" -ne 0 ]; then
    grep -E '^\[  FAILED  \]|Failure|error:|^not ok |==ERROR: |runtime error: |^SUMMARY: ' "$log" |
      head -20 | sed 's/^/   | /'
  fi
  echo "   ($(($(date +%s) - t0)) s, log: $log)"
}

# The tree a GoogleTest suite is built in: the unit suites (but the -static
# one, which the sanitizers cannot link) in the ASan+UBSan tree.
gtest_dir() {
  case $1 in
    unit-*-static | integration-*) echo "$build/tests" ;;
    unit-*) echo "$build-asan/tests" ;;
  esac
}

# run_gtest_suite NAME: a GoogleTest binary. Under ASan+UBSan a sanitizer
# report fails the suite, even when every test passed.
run_gtest_suite() {
  local name=$1 log=$logs/$1.log rc t0 p f s
  t0=$(date +%s)
  # halt_on_error: a UBSan finding ends the suite instead of scrolling by.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    timeout -k 10 "$suite_timeout" "$(gtest_dir "$name")/$name" --gtest_color=no >"$log" 2>&1
  rc=$?
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*listed below.*/\1/p' "$log" | tail -1)
  s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  if grep -qE '^==[0-9]+==ERROR: |runtime error: ' "$log" && [ "${f:-0}" -eq 0 ]; then f=1; fi
  suite_report "$name" "$log" "$rc" "${p:-0}" "${f:-0}" "${s:-0}" "$t0"
}

# run_bats_suite NAME: tests/e2e/X.bats for e2e-X, tests/scripts/X.bats for scripts-X.
run_bats_suite() {
  local name=$1 log=$logs/$1.log rc t0 p f s
  t0=$(date +%s)
  HULL_BUILD_DIR=$build timeout -k 10 "$suite_timeout" \
    bats --tap --timing "tests/${name%%-*}/${name#*-}.bats" >"$log" 2>&1
  rc=$?
  p=$(grep -c '^ok ' "$log")
  s=$(grep -c '^ok .*# skip' "$log")
  f=$(grep -c '^not ok ' "$log")
  suite_report "$name" "$log" "$rc" "$((p - s))" "$f" "$s" "$t0"
}

run_suite() {
  case $1 in
    unit-* | integration-*) run_gtest_suite "$1" ;;
    *) run_bats_suite "$1" ;;
  esac
}

# The selected suites of one kind: unit, integration, e2e or scripts.
selected_suites() {
  local f name
  case $1 in
    unit)
      # As CMake lists them (a renamed suite's old binary may still lie there).
      { unit_targets "$build-asan"; all_unit_targets "$build" | grep -- '-static$'; } |
        while read -r name; do
          [ -x "$(gtest_dir "$name")/$name" ] && wants "$name" && echo "$name"
        done
      ;;
    integration)
      for f in "$build/tests/$1"-*; do
        [ -x "$f" ] || continue
        name=$(basename "$f")
        wants "$name" && echo "$name"
      done
      ;;
    *)
      for f in "tests/$1"/*.bats; do
        [ -f "$f" ] || continue
        name=$1-$(basename "$f" .bats)
        wants "$name" && echo "$name"
      done
      ;;
  esac
}

# The jobs, one line each (its suites, run in that order), longest first.
# Suites in one job share something on the host that a second suite at the
# same time would trip over:
#   e2e-cli-*, e2e-setup, e2e-network: hull's own containers get top-level
#     host cgroups named e2e-*, which each cli-*.bats counts at its end (and
#     cli-security.bats, the last, in its last test);
#   e2e-docker, e2e-docker-network: dockerd's cgroup parent /hull-e2e-docker;
#   e2e-podman, e2e-podman-network: /hull-e2e-podman and /var/lib/containers;
#   e2e-containerd, e2e-shim: the namespace and cgroup of the runc shim.
suite_jobs() {
  local groups=("e2e-cli-lifecycle e2e-cli-exec e2e-cli-resources e2e-cli-input e2e-cli-security
    e2e-setup e2e-network" "e2e-containerd e2e-shim" e2e-cri
    "e2e-docker e2e-docker-network" "e2e-podman e2e-podman-network")
  local all=() grouped=() g s line
  mapfile -t all < <(selected_suites e2e; selected_suites integration; selected_suites scripts)
  for g in "${groups[@]}"; do
    line=
    for s in $g; do
      grouped+=("$s")
      [[ " ${all[*]} " == *" $s "* ]] && line+="$s "
    done
    [ -n "$line" ] && echo "${line% }"
  done
  for s in "${all[@]}"; do
    [[ " ${grouped[*]} " == *" $s "* ]] || echo "$s"
  done
}

# run_jobs FUNCTION: runs `FUNCTION LINE` for each line of stdin as one job,
# HULL_TEST_JOBS at a time (default 2). A job's output is printed whole when
# it ends. Only the jobs' own pids are waited for (the gate builds run in the
# background too). A job's stdin is /dev/null: bats and the daemons it starts
# read theirs.
run_jobs() {
  local fn=$1 max=${HULL_TEST_JOBS:-2} lines=() line active=() all=() p alive
  mapfile -t lines
  for line in "${lines[@]}"; do
    while [ ${#active[@]} -ge "$max" ]; do
      wait -n "${active[@]}"
      alive=()
      for p in "${active[@]}"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
      active=("${alive[@]}")
    done
    (
      out=$logs/job-${line%% *}.out
      "$fn" "$line" >"$out"
      flock "$logs/.print" cat "$out"
    ) </dev/null &
    active+=($!) all+=($!)
  done
  [ ${#all[@]} -eq 0 ] || wait "${all[@]}"
}

# run_suite_list "A B ...": the suites of one job, one after the other.
run_suite_list() {
  local s
  for s in $1; do run_suite "$s"; done
}

# Every job of suite_jobs (the VM suites and the scripts' tests).
run_suite_jobs() {
  suite_jobs | run_jobs run_suite_list
}

# The selected unit suites, each a job: they share nothing on the host (each
# makes its own temporary directories and namespaces).
run_unit_suites() {
  selected_suites unit | run_jobs run_suite
}

# Adds every suite's counts to test.sh's totals.
sum_suite_counts() {
  local f p c s
  for f in "$logs"/*.counts; do
    [ -f "$f" ] || continue
    read -r p c s <"$f"
    passed=$((passed + p)) failed=$((failed + c)) skipped=$((skipped + s))
  done
}
