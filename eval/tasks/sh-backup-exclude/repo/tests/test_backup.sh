. tests/lib.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src/docs"
echo hello > "$work/src/a.txt"
echo notes > "$work/src/docs/b.md"
printf 'SOURCE=%s\nDEST=%s\n# the archive name\nNAME=site\n' "$work/src" "$work/out" > "$work/backup.conf"

sh bin/backup.sh "$work/backup.conf" >/dev/null
assert_eq "0" "$?" "backup succeeds"
assert_eq "./a.txt ./docs/b.md" "$(tar -tf "$work/out/site.tar" | grep -v '/$' | sort | tr '\n' ' ' | sed 's/ $//')" "archives every file"

printf 'SOURCE=%s\nDEST=%s\nCOLOR=blue\n' "$work/src" "$work/out" > "$work/bad.conf"
sh bin/backup.sh "$work/bad.conf" 2>/dev/null
assert_eq "1" "$?" "an unknown setting is refused"

finish
