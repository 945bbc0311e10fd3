. tests/lib.sh

assert_eq "jpg" "$(sh bin/ext.sh photos/IMG_01.JPG)" "upper-case extension"
assert_eq "gz" "$(sh bin/ext.sh backups/site.tar.gz)" "last extension only"
assert_eq "md" "$(sh bin/ext.sh README.md)" "plain name"

finish
