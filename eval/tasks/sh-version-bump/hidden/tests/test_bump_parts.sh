. tests/lib.sh

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
v="$dir/VERSION"
bump() { VERSION_FILE="$v" sh bin/bump.sh "$@"; }

echo "1.4.2" > "$v"
assert_eq "2.0.0" "$(bump major)" "major prints"
assert_eq "2.0.0" "$(cat "$v")" "major writes"

echo "1.4.2" > "$v"
assert_eq "1.5.0" "$(bump minor)" "minor"
assert_eq "1.5.1" "$(bump patch)" "then patch"
assert_eq "1.5.2" "$(bump)" "then the default"

echo "1.9.19" > "$v"
assert_eq "1.9.20" "$(bump)" "multi-digit parts"
assert_eq "1.10.0" "$(bump minor)" "minor past 9"

echo "v1.4.2" > "$v"
assert_eq "v1.4.3" "$(bump)" "a leading v is kept (patch)"
assert_eq "v2.0.0" "$(bump major)" "a leading v is kept (major)"
assert_eq "v2.0.0" "$(cat "$v")" "and written"

printf '3.0.0' > "$v"
assert_eq "3.1.0" "$(bump minor)" "VERSION without a trailing newline"

echo "1.4.2" > "$v"
err=$(bump huge 2>&1 >/dev/null)
assert_eq "2" "$?" "an unknown part exits 2"
assert_true "an unknown part prints a usage message" test -n "$err"
assert_eq "1.4.2" "$(cat "$v")" "an unknown part leaves VERSION alone"

for bad in "1.4" "one.two.three" "1.4.2-beta" ""; do
  printf '%s\n' "$bad" > "$v"
  bump >/dev/null 2>&1
  assert_eq "1" "$?" "VERSION '$bad' is an error"
  assert_eq "$bad" "$(cat "$v")" "VERSION '$bad' is left alone"
done

# The default file is ./VERSION.
(cd "$dir" && echo "0.1.0" > VERSION && sh "$OLDPWD/bin/bump.sh" minor >/dev/null)
assert_eq "0.2.0" "$(cat "$dir/VERSION")" "./VERSION by default"

finish
