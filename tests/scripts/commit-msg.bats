#!/usr/bin/env bats
# scripts/commit-msg, the hook that checks a commit message's shape: each
# test writes a message to a file and runs the hook on it as git would.

bats_require_minimum_version 1.5.0

HOOK=$BATS_TEST_DIRNAME/../../scripts/commit-msg

setup() { MSG=$BATS_TEST_TMPDIR/COMMIT_EDITMSG; }

# check LINE...: runs the hook on a message made of LINEs.
check() {
  printf '%s\n' "$@" >"$MSG"
  run "$HOOK" "$MSG"
}

@test "commit-msg: area, imperative summary, blank line and body pass" {
  check "agent/engine: keep the cpu.max quota on a period-only update" "" \
    "The guest wrote 'max N', lifting the container's quota."
  [ "$status" -eq 0 ]
  [ -z "$output" ]
}

@test "commit-msg: several areas and a subject of exactly 72 characters pass" {
  subject="scripts, docs: $(printf 'x%.0s' {1..57})"
  [ ${#subject} -eq 72 ]
  check "$subject" "" "why"
  [ "$status" -eq 0 ]
}

@test "commit-msg: a subject of 73 characters fails and says the limit" {
  check "scripts: $(printf 'x%.0s' {1..64})" "" "why"
  [ "$status" -eq 1 ]
  [[ $output == *"the subject has 73 characters; at most 72"* ]]
  [[ $output == *"git commit -e -F $MSG"* ]]
}

@test "commit-msg: a subject without an area fails" {
  check "Fix the quota on update" "" "why"
  [ "$status" -eq 1 ]
  [[ $output == *"does not start with the area"* ]]
}

@test "commit-msg: a summary that is not imperative fails" {
  for verb in fixes fixed fixing; do
    check "runtime/oci: $verb the id rule" "" "why"
    [ "$status" -eq 1 ]
    [[ $output == *"starts with \"$verb\"; write it in the imperative"* ]]
  done
  check "runtime/oci: address the id rule" "" "why"  # -ss is not a third person
  [ "$status" -eq 0 ]
}

@test "commit-msg: a second line that is not blank fails" {
  check "docs: add the gates" "why, right under the subject"
  [ "$status" -eq 1 ]
  [[ $output == *"the second line is not blank"* ]]
}

@test "commit-msg: a message without a body fails" {
  check "docs: add the gates"
  [ "$status" -eq 1 ]
  [[ $output == *"there is no body"* ]]
}

@test "commit-msg: git's comments and the verbose diff are not part of the message" {
  check "" "docs: add the gates" "" "why" \
    "# Please enter the commit message for your changes. Lines starting with '#' will be ignored." \
    "# ------------------------ >8 ------------------------" \
    "diff --git a/docs/development.md b/docs/development.md"
  [ "$status" -eq 0 ]
}

@test "commit-msg: merge subjects git writes pass as they are" {
  check "Merge branch 'gates' into main, with a subject longer than seventy-two characters"
  [ "$status" -eq 0 ]
}

@test "commit-msg: an empty message fails; no argument is a usage error" {
  check "# only a comment"
  [ "$status" -eq 1 ]
  [[ $output == *"the message is empty"* ]]
  run "$HOOK"
  [ "$status" -eq 2 ]
  [[ $output == *"usage:"* ]]
}
