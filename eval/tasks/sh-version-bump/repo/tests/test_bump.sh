. tests/lib.sh

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "1.4.2" > "$dir/VERSION"

out=$(VERSION_FILE="$dir/VERSION" sh bin/bump.sh)
assert_eq "1.4.3" "$out" "prints the new version"
assert_eq "1.4.3" "$(cat "$dir/VERSION")" "writes the new version"

out=$(VERSION_FILE="$dir/VERSION" sh bin/bump.sh patch)
assert_eq "1.4.4" "$out" "patch, explicitly"

finish
