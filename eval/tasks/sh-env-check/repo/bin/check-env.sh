#!/bin/sh
# Prints `missing: NAME` for each variable named in FILE (one per line) that is not set;
# exits 1 if any is missing.
file=$1
status=0
while read -r name; do
  eval "value=\${$name+set}"
  if [ -z "$value" ]; then
    echo "missing: $name"
    status=1
  fi
done < "$file"
exit $status
