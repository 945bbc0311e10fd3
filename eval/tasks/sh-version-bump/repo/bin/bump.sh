#!/bin/sh
# Increments the patch part of the version in $VERSION_FILE (default ./VERSION) and prints it.
file=${VERSION_FILE:-VERSION}
part=${1:-patch}
if [ "$part" != patch ]; then
  echo "bump.sh: only patch is supported" >&2
  exit 2
fi
version=$(cat "$file")
major=${version%%.*}
rest=${version#*.}
minor=${rest%%.*}
patch=${rest#*.}
new="$major.$minor.$((patch + 1))"
echo "$new" > "$file"
echo "$new"
