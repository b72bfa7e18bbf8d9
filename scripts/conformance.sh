#!/usr/bin/env bash
# Runs the OCI runtime-tools validation suite (through the runner script
# OCI_VAL_RUNNER, below) against runc and against RUNTIME, prints both results side by side and writes
# build/bench/conformance.json.
#
#   OCI_VAL_REPO=<git dir of opencontainers/runtime-tools> scripts/conformance.sh [RUNTIME]
#
# RUNTIME defaults to the built hull ($HULL_BUILD_DIR, default build/). When it
# is runc itself, or hull has no `create` yet, only runc runs. The goal: RUNTIME
# passes at least every test program that runc passes on the same machine.
#
# Environment:
#   OCI_VAL_REPO        required; a git dir (bare or .git) of the public
#                       opencontainers/runtime-tools repository. The project
#                       never commits that code: clone it outside the tree,
#                         git clone --bare https://github.com/opencontainers/runtime-tools /srv/runtime-tools.git
#                       and pass OCI_VAL_REPO=/srv/runtime-tools.git.
#   OCI_VAL_RUNNER      a script `RUNNER RUNTIME_BINARY [OUTDIR]` that builds the
#                       suite's Go test programs (Debian's runtime-tools package
#                       plus the validation/ sources of OCI_VAL_REPO) and runs
#                       each against the runtime as root, printing PASS, FAIL or
#                       SKIP per program and "N passed, M failed, K skipped";
#                       default: oci-validation.sh in ../shared/conformance
#                       beside the checkout, where the build machines keep it
#   HULL_RUNC           the reference runtime (default /usr/sbin/runc)
#   HULL_BUILD_DIR      build tree (default build/); results go to $HULL_BUILD_DIR/bench/
#   CONFORMANCE_REUSE_RUNC=1  reuse the last runc result instead of running runc again
#   OCI_VAL_TESTS, OCI_VAL_TIMEOUT, OCI_VAL_CACHE: passed on to oci-validation.sh
#
# Exit status: 0 when RUNTIME passes every test program runc passes (or only
# runc ran), 1 when it does not, 2 on usage or setup errors.
set -uo pipefail
cd "$(dirname "$0")/.." || exit
top=$(pwd)
build=${HULL_BUILD_DIR:-$top/build}
suite=${OCI_VAL_RUNNER:-$top/../shared/conformance/oci-validation.sh}
runc=${HULL_RUNC:-/usr/sbin/runc}
out=$build/bench/conformance
json=$build/bench/conformance.json

die() { echo "conformance: $*" >&2; exit 2; }

if [ -z "${OCI_VAL_REPO:-}" ]; then
  cat >&2 <<'EOF'
conformance: OCI_VAL_REPO is not set.
  The validation programs come from the public opencontainers/runtime-tools
  repository, which hull does not vendor. Get a git dir of it outside the tree
  and point OCI_VAL_REPO at it, for example:
    git clone --bare https://github.com/opencontainers/runtime-tools /srv/runtime-tools.git
    OCI_VAL_REPO=/srv/runtime-tools.git scripts/conformance.sh
  (commit 0105384f68e1, Debian's snapshot of the suite, must be in it)
EOF
  exit 2
fi
[ -d "$OCI_VAL_REPO" ] || die "OCI_VAL_REPO=$OCI_VAL_REPO is not a directory"
export OCI_VAL_REPO
[ -f "$suite" ] || die "validation runner not found: $suite (set OCI_VAL_RUNNER)"
[ "$(id -u)" -eq 0 ] || die "must run as root (the suite creates real containers)"
command -v jq >/dev/null || die "jq is missing (scripts/setup.sh installs it)"
[ -x "$runc" ] || die "reference runtime not found: $runc (Debian package runc)"

runtime=${1:-}
if [ -z "$runtime" ]; then
  for c in "$build/bin/hull" "$build/runtime/cli/hull"; do
    if [ -x "$c" ]; then runtime=$c; break; fi
  done
fi
if [ -n "$runtime" ]; then
  runtime=$(readlink -f "$runtime") || die "no such runtime: $1"
  [ -x "$runtime" ] || die "runtime not executable: $runtime"
  if [ "$runtime" = "$(readlink -f "$runc")" ]; then
    runtime=""
  elif ! "$runtime" create --help >/dev/null 2>&1; then
    echo "conformance: $runtime has no 'create' command yet; running runc only" >&2
    runtime=""
  fi
fi

mkdir -p "$out"

# run NAME BINARY: runs the suite, keeping its output in $out/NAME.out and the
# TAP files in $out/NAME/.
run() {
  local name=$1 bin=$2
  rm -rf "${out:?}/$name" && mkdir -p "$out/$name"
  echo "== $name: $bin" >&2
  bash "$suite" "$bin" "$out/$name" >"$out/$name.out" 2>"$out/$name.err"
  local rc=$?
  tail -3 "$out/$name.out" | sed 's/^/   /' >&2
  # The suite exits 1 when any test fails; only a missing summary line is an error.
  grep -qE '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$out/$name.out" ||
    die "$name: the suite did not finish (exit $rc; see $out/$name.err)"
}

if [ -n "${CONFORMANCE_REUSE_RUNC:-}" ] && [ -s "$out/runc.out" ]; then
  echo "== runc: reusing $out/runc.out" >&2
else
  run runc "$runc"
fi
[ -n "$runtime" ] && run runtime "$runtime"

# results FILE: "name result" lines (PASS/FAIL/SKIP) from a suite output.
results() { sed -nE 's/^(PASS|FAIL|SKIP) ([A-Za-z0-9_]+).*/\2 \1/p' "$1" | sort; }
summary() { grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$1" | tail -1; }
asserts() { sed -nE 's/^assertions: (.*)/\1/p' "$1" | tail -1; }

results "$out/runc.out" >"$out/runc.results"
rname=$(basename "${runtime:-none}")
if [ -n "$runtime" ]; then
  results "$out/runtime.out" >"$out/runtime.results"
else
  : >"$out/runtime.results"
fi

# Side by side: one line per test program.
printf '\n%-40s %-6s %-6s\n' "test program" runc "$rname"
join -a1 -a2 -e - -o 0,1.2,2.2 "$out/runc.results" "$out/runtime.results" |
  while read -r t a b; do printf '%-40s %-6s %-6s\n' "$t" "$a" "$b"; done | tee "$out/side-by-side.txt"
printf '%-40s %s\n' "programs runc" "$(summary "$out/runc.out")"
printf '%-40s %s\n' "assertions runc" "$(asserts "$out/runc.out")"
regressions=()
if [ -n "$runtime" ]; then
  printf '%-40s %s\n' "programs $rname" "$(summary "$out/runtime.out")"
  printf '%-40s %s\n' "assertions $rname" "$(asserts "$out/runtime.out")"
  mapfile -t regressions < <(join "$out/runc.results" "$out/runtime.results" |
    awk '$2 == "PASS" && $3 != "PASS" {print $1}')
  if [ ${#regressions[@]} -eq 0 ]; then
    echo "$rname passes every test program runc passes"
  else
    echo "$rname fails test programs runc passes: ${regressions[*]}"
  fi
fi

# counts FILE -> JSON object
counts() {
  local s a
  s=$(summary "$1") a=$(asserts "$1")
  jq -n --arg s "$s" --arg a "$a" --rawfile r <(results "$1") '
    ($s | capture("(?<p>[0-9]+) passed, (?<f>[0-9]+) failed, (?<k>[0-9]+) skipped")) as $c |
    ($a | capture("(?<p>[0-9]+) passed, (?<f>[0-9]+) failed, (?<k>[0-9]+) skipped")) as $x |
    ($r | split("\n") | map(select(length > 0) | split(" "))) as $rows |
    {passed: ($c.p|tonumber), failed: ($c.f|tonumber), skipped: ($c.k|tonumber),
     assertions: {passed: ($x.p|tonumber), failed: ($x.f|tonumber), skipped: ($x.k|tonumber)},
     failed_programs: [$rows[] | select(.[1] == "FAIL") | .[0]],
     skipped_programs: [$rows[] | select(.[1] == "SKIP") | .[0]]}'
}
{
  echo '{'
  printf '"date": %s, "host_kernel": %s, "cgroup": %s,\n' "$(date -u +%FT%TZ | jq -R .)" \
    "$(uname -r | jq -R .)" "$([ -d /sys/fs/cgroup/unified ] && echo '"v1 hybrid"' || echo '"v2"')"
  printf '"runc": {"binary": %s, "version": %s, "results": %s}' "$(jq -Rn --arg v "$runc" '$v')" \
    "$("$runc" --version | head -1 | jq -R .)" "$(counts "$out/runc.out")"
  if [ -n "$runtime" ]; then
    printf ',\n"runtime": {"binary": %s, "results": %s},\n' "$(jq -Rn --arg v "$runtime" '$v')" \
      "$(counts "$out/runtime.out")"
    printf '"regressions_vs_runc": %s\n' \
      "$(printf '%s\n' "${regressions[@]}" | jq -R . | jq -s 'map(select(length > 0))')"
  fi
  echo '}'
} | jq . >"$json" || die "writing $json failed"
echo "wrote $json"
[ ${#regressions[@]} -eq 0 ] || exit 1
