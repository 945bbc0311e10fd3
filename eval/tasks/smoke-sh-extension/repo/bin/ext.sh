#!/bin/sh
# Prints the extension of a file name, lower-cased: photos/IMG_01.JPG -> jpg
name=$(basename "$1")
printf '%s\n' "${name##*.}" | tr 'A-Z' 'a-z'
