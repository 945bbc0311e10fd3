# Assertions for the shell tests: source this file, assert, then call `finish`.
FAILED=0

# assert_eq EXPECTED ACTUAL DESCRIPTION
assert_eq() {
  if [ "$1" != "$2" ]; then
    printf 'not ok: %s\n  expected: [%s]\n  actual:   [%s]\n' "$3" "$1" "$2"
    FAILED=1
  fi
}

# assert_true DESCRIPTION COMMAND...: the command must succeed.
assert_true() {
  description=$1
  shift
  if ! "$@"; then
    printf 'not ok: %s\n' "$description"
    FAILED=1
  fi
}

finish() {
  exit "$FAILED"
}
