. tests/lib.sh

assert_eq "" "$(sh bin/ext.sh Makefile)" "no extension"
assert_eq "" "$(sh bin/ext.sh src/LICENSE)" "no extension, with a directory"
assert_eq "" "$(sh bin/ext.sh release.v2/NOTES)" "a dot in the directory is not an extension"
assert_eq "" "$(sh bin/ext.sh /home/ada/.profile)" "a dotfile has no extension"
assert_eq "" "$(sh bin/ext.sh .bashrc)" "a dotfile in the current directory"
assert_eq "json" "$(sh bin/ext.sh .config.JSON)" "a dotfile with an extension"
assert_eq "gz" "$(sh bin/ext.sh archive.TAR.GZ)" "still lower-cases"
assert_eq "png" "$(sh bin/ext.sh 'my photos/cat picture.png')" "spaces in the path"
assert_true "exit status 0 without an extension" sh bin/ext.sh Makefile
assert_eq "1" "$(sh bin/ext.sh Makefile | wc -l | tr -d ' ')" "prints one (empty) line"

finish
