. tests/lib.sh

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for day in 01 02 03 04 05; do : > "$dir/app-2024-05-$day.log"; done
: > "$dir/notes.txt"

sh bin/rotate-logs.sh "$dir" 2
assert_eq "app-2024-05-04.log app-2024-05-05.log notes.txt" "$(ls "$dir" | tr '\n' ' ' | sed 's/ $//')" "keeps the two newest logs"

finish
