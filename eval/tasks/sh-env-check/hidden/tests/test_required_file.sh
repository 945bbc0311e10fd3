. tests/lib.sh

list=$(mktemp)
trap 'rm -f "$list"' EXIT

# The repository's own file: comments and blank lines.
out=$(env DATABASE_URL=postgres://db SESSION_SECRET=s3cret SMTP_HOST=mail sh bin/check-env.sh required-env.txt)
assert_eq "0" "$?" "required-env.txt with everything set passes"
assert_eq "" "$out" "and prints nothing"

out=$(env -u SMTP_HOST DATABASE_URL=postgres://db SESSION_SECRET=s3cret sh bin/check-env.sh required-env.txt)
assert_eq "1" "$?" "required-env.txt with one missing fails"
assert_eq "missing: SMTP_HOST" "$out" "and names only that one"

# Empty values count as missing.
out=$(env DATABASE_URL= SESSION_SECRET=s3cret SMTP_HOST=mail sh bin/check-env.sh required-env.txt)
assert_eq "1" "$?" "an empty value fails"
assert_eq "missing: DATABASE_URL" "$out" "an empty value is reported as missing"

# Comments, blank lines, spaces and tabs around names.
printf '# header\n\n   \n  APP_A  \n\tAPP_B\n# APP_C is optional\n   # indented comment\nAPP_D\n' > "$list"
out=$(env -u APP_A -u APP_B -u APP_D -u APP_C sh bin/check-env.sh "$list")
assert_eq "1" "$?" "all missing: exit 1"
assert_eq "missing: APP_A
missing: APP_B
missing: APP_D" "$out" "comments and blank lines are skipped, names are trimmed, file order"

out=$(env -u APP_C APP_A=1 APP_B=2 APP_D=4 sh bin/check-env.sh "$list")
assert_eq "0" "$?" "all set: exit 0"
assert_eq "" "$out" "all set: prints nothing"

finish
