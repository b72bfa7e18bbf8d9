#!/usr/bin/env bash
# guest-image/check-config.sh FRAGMENT DOTCONFIG
#
# Checks that every option of a kernel config fragment survived `make olddefconfig`:
#   CONFIG_X=v              in the fragment: DOTCONFIG must hold exactly CONFIG_X=v
#   # CONFIG_X is not set   in the fragment: DOTCONFIG must not set CONFIG_X (a missing line
#                           is fine: the option is then hidden by an unmet dependency)
# Prints one line per option that did not survive, "CONFIG_X: wanted y, got not set" (or
# "got absent"), and exits 1
# if there is any; exits 0 silently otherwise; exits 2 on a usage or read error.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 FRAGMENT DOTCONFIG" >&2
  exit 2
fi
for f in "$1" "$2"; do
  if [[ ! -r $f ]]; then
    echo "check-config: cannot read $f" >&2
    exit 2
  fi
done

awk '
  function wanted_of(line) {
    if (line ~ /^CONFIG_[A-Za-z0-9_]+=/) { sub(/^[^=]*=/, "", line); return line }
    return "n"
  }
  function name_of(line) {
    if (line ~ /^# CONFIG_[A-Za-z0-9_]+ is not set$/) { split(line, w, " "); return w[2] }
    if (line ~ /^CONFIG_[A-Za-z0-9_]+=/) { sub(/=.*/, "", line); return line }
    return ""
  }
  function shown(v) { return v == "n" ? "not set" : v }
  FNR == NR {                      # the .config
    n = name_of($0)
    if (n != "") have[n] = wanted_of($0)
    next
  }
  {                                # the fragment
    n = name_of($0)
    if (n == "") next
    want = wanted_of($0)
    got = (n in have) ? have[n] : "absent"
    ok = (got == want) || (want == "n" && got == "absent")
    if (!ok) {
      printf "%s: wanted %s, got %s\n", n, shown(want), shown(got)
      bad++
    }
  }
  END { exit bad > 0 ? 1 : 0 }
' "$2" "$1"
