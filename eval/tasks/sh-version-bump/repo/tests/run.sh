#!/bin/sh
# Runs every tests/test_*.sh from the repository root; fails when any of them fails.
cd "$(dirname "$0")/.." || exit 1
passed=0
failed=0
for t in tests/test_*.sh; do
  [ -e "$t" ] || continue
  if sh "$t"; then
    passed=$((passed + 1))
  else
    echo "FAILED: $t"
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
