#!/bin/sh
# Archives SOURCE into DEST/NAME.tar as configured in the given file. See README.md.
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/lib/config.sh"

[ $# -eq 1 ] || { echo "usage: backup.sh CONFIG" >&2; exit 2; }
load_config "$1" || exit 1
mkdir -p "$DEST" || exit 1
tar -cf "$DEST/$NAME.tar" -C "$SOURCE" . || exit 1
echo "backed up $SOURCE to $DEST/$NAME.tar"
