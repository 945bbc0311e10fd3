. tests/lib.sh

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
make_logs() {
  rm -rf "$dir"/*
  for day in 01 02 03 04 05; do : > "$dir/app-2024-05-$day.log"; done
}
listing() { ls "$dir" | tr '\n' ' ' | sed 's/ $//'; }
all="app-2024-05-01.log app-2024-05-02.log app-2024-05-03.log app-2024-05-04.log app-2024-05-05.log"

for flag in -n --dry-run; do
  make_logs
  out=$(sh bin/rotate-logs.sh "$flag" "$dir" 3)
  assert_eq "0" "$?" "$flag exits 0"
  assert_eq "$all" "$(listing)" "$flag deletes nothing"
  assert_eq "would remove $dir/app-2024-05-01.log
would remove $dir/app-2024-05-02.log" "$(printf '%s\n' "$out" | sort)" "$flag lists what it would remove"
done

make_logs
out=$(sh bin/rotate-logs.sh --dry-run "$dir" 5)
assert_eq "" "$out" "nothing to remove, nothing printed"

make_logs
sh bin/rotate-logs.sh "$dir" 3 >/dev/null
assert_eq "app-2024-05-03.log app-2024-05-04.log app-2024-05-05.log" "$(listing)" "without the flag it still removes"

make_logs
sh bin/rotate-logs.sh "$dir" 0 >/dev/null
assert_eq "" "$(listing)" "KEEP 0 removes every log"

for bad in ten -1 2.5 ""; do
  make_logs
  err=$(sh bin/rotate-logs.sh "$dir" "$bad" 2>&1 >/dev/null)
  status=$?
  assert_eq "2" "$status" "KEEP '$bad' is refused with status 2"
  assert_true "KEEP '$bad' prints a usage message" test -n "$err"
  assert_eq "$all" "$(listing)" "KEEP '$bad' touches nothing"
done

make_logs
sh bin/rotate-logs.sh "$dir/missing" 1 2>/dev/null
assert_eq "2" "$?" "a missing DIR is refused with status 2"
sh bin/rotate-logs.sh -n 2>/dev/null
assert_eq "2" "$?" "no arguments is refused with status 2"

finish
