. tests/lib.sh

list=$(mktemp)
trap 'rm -f "$list"' EXIT
printf 'APP_ONE\nAPP_TWO\n' > "$list"

out=$(env APP_ONE=1 APP_TWO=2 sh bin/check-env.sh "$list")
assert_eq "0" "$?" "all set: exit 0"
assert_eq "" "$out" "all set: prints nothing"

out=$(env -u APP_ONE -u APP_TWO sh bin/check-env.sh "$list")
assert_eq "1" "$?" "missing: exit 1"
assert_eq "missing: APP_ONE
missing: APP_TWO" "$out" "one line per missing variable"

finish
