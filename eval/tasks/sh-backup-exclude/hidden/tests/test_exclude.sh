. tests/lib.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src/app/node_modules/left" "$work/src/docs" "$work/src/node_modules"
echo 1 > "$work/src/keep.txt"
echo 2 > "$work/src/scratch.tmp"
echo 3 > "$work/src/docs/guide.md"
echo 4 > "$work/src/docs/.guide.md.swp"
echo 5 > "$work/src/docs/old.tmp"
echo 6 > "$work/src/app/main.js"
echo 7 > "$work/src/app/node_modules/left/index.js"
echo 8 > "$work/src/node_modules/x.js"
echo 9 > "$work/src/tmp.notes"

files() { tar -tf "$1" | grep -v '/$' | sort | tr '\n' ' ' | sed 's/ $//'; }

printf 'SOURCE=%s\nDEST=%s\nNAME=ex\nEXCLUDE=*.tmp *.swp node_modules\n' "$work/src" "$work/out" > "$work/ex.conf"
sh bin/backup.sh "$work/ex.conf" >/dev/null
assert_eq "0" "$?" "a backup with EXCLUDE succeeds"
assert_eq "./app/main.js ./docs/guide.md ./keep.txt ./tmp.notes" "$(files "$work/out/ex.tar")" "excluded names are left out at any depth"

printf 'SOURCE=%s\nDEST=%s\nNAME=empty\nEXCLUDE=\n' "$work/src" "$work/out" > "$work/empty.conf"
sh bin/backup.sh "$work/empty.conf" >/dev/null
assert_eq "9" "$(files "$work/out/empty.tar" | wc -w | tr -d ' ')" "an empty EXCLUDE backs up everything"

printf 'SOURCE=%s\nDEST=%s\nNAME=none\n' "$work/src" "$work/out" > "$work/none.conf"
sh bin/backup.sh "$work/none.conf" >/dev/null
assert_eq "9" "$(files "$work/out/none.tar" | wc -w | tr -d ' ')" "no EXCLUDE backs up everything"

printf 'SOURCE=%s\nDEST=%s\nNAME=one\nEXCLUDE=docs\n' "$work/src" "$work/out" > "$work/one.conf"
sh bin/backup.sh "$work/one.conf" >/dev/null
assert_eq "" "$(files "$work/out/one.tar" | tr ' ' '\n' | grep docs)" "a directory name excludes the directory"

# The patterns must not be expanded against the current directory.
: > "$work/src/zzz.tmp"
(cd "$work/src" && sh "$OLDPWD/bin/backup.sh" "$work/ex.conf" >/dev/null)
assert_eq "./app/main.js ./docs/guide.md ./keep.txt ./tmp.notes" "$(files "$work/out/ex.tar")" "patterns are not globbed by the shell"

printf 'SOURCE=%s\nDEST=%s\nCOLOR=blue\n' "$work/src" "$work/out" > "$work/bad.conf"
sh bin/backup.sh "$work/bad.conf" 2>/dev/null
assert_eq "1" "$?" "unknown settings are still refused"

finish
