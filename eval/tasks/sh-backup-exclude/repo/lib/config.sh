# Reads a KEY=VALUE settings file without sourcing it (so it cannot run commands).
# Usage: load_config FILE; sets SOURCE, DEST and NAME. Returns 1 (with a message) on a bad line.

load_config() {
  SOURCE=
  DEST=
  NAME=backup
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      '' | '#'*) continue ;;
    esac
    key=${line%%=*}
    value=${line#*=}
    case $key in
      SOURCE) SOURCE=$value ;;
      DEST) DEST=$value ;;
      NAME) NAME=$value ;;
      *)
        echo "config: unknown setting '$key' in $1" >&2
        return 1
        ;;
    esac
  done < "$1"
  if [ -z "$SOURCE" ] || [ -z "$DEST" ]; then
    echo "config: SOURCE and DEST are required in $1" >&2
    return 1
  fi
}
