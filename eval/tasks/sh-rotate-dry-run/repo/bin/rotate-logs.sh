#!/bin/sh
# Keeps the newest KEEP *.log files in DIR (by name: app-YYYY-MM-DD.log) and removes the rest.
dir=$1
keep=$2

ls "$dir"/*.log 2>/dev/null | sort -r | tail -n +$((keep + 1)) | while IFS= read -r file; do
  rm -f -- "$file"
done
