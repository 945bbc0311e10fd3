"""Counts log lines per level. See README.md."""

import re
import sys

LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LINE = re.compile(r"^(\S+) (DEBUG|INFO|WARNING|ERROR|CRITICAL) (.*)$")


def parse_line(line):
    """(timestamp, level, message), or None for a line that is not a log entry."""
    match = LINE.match(line.rstrip("\n"))
    return match.groups() if match else None


def summarize(lines):
    """A dict level -> number of lines, for the levels that occur."""
    counts = {}
    for line in lines:
        entry = parse_line(line)
        if entry is None:
            continue
        level = entry[1]
        counts[level] = counts.get(level, 0) + 1
    return counts


def format_summary(counts):
    ordered = sorted(counts, key=LEVELS.index, reverse=True)
    return "\n".join(f"{level}: {counts[level]}" for level in ordered)


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: logsummary.py FILE", file=sys.stderr)
        return 2
    with open(args[0], encoding="utf-8") as f:
        counts = summarize(f)
    if counts:
        print(format_summary(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
