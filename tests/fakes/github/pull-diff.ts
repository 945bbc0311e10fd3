/**
 * A pull request's diff as GitHub uses it for review comments: a comment may only sit on a line
 * the diff shows (an added or context line on the RIGHT, a removed or context line on the LEFT);
 * its `diff_hunk` is the hunk from its `@@` header down to that line, and its `position` counts
 * lines below the file's first `@@` header (later headers included).
 */

export interface DiffLine {
  kind: ' ' | '+' | '-';
  oldLine: number | null;
  newLine: number | null;
  position: number;
  /** Index of the line within its hunk's text (the header is line 0). */
  indexInHunk: number;
}

export interface DiffHunk {
  header: string;
  /** The hunk's text: header and lines. */
  text: string[];
  lines: DiffLine[];
}

export interface FileDiff {
  path: string;
  hunks: DiffHunk[];
}

/** Parses `git diff` output (unified, no color). */
export function parseUnifiedDiff(diff: string): FileDiff[] {
  const files: FileDiff[] = [];
  let file: FileDiff | null = null;
  let hunk: DiffHunk | null = null;
  let oldLine = 0;
  let newLine = 0;
  let position = 0;
  for (const raw of diff.split('\n')) {
    if (raw.startsWith('diff --git ')) {
      file = { path: '', hunks: [] };
      files.push(file);
      hunk = null;
      position = 0;
      // Until a +++ line says otherwise (deleted files have +++ /dev/null), take the b/ side.
      file.path = raw.slice(raw.indexOf(' b/') + 3);
      continue;
    }
    if (!file) continue;
    if (!hunk && raw.startsWith('+++ ')) {
      const target = raw.slice(4);
      if (target.startsWith('b/')) file.path = target.slice(2);
      continue;
    }
    const header = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(raw);
    if (header) {
      // The first header is position 0; each later one takes a position like any line.
      if (file.hunks.length > 0) position++;
      hunk = { header: raw, text: [raw], lines: [] };
      file.hunks.push(hunk);
      oldLine = Number(header[1]);
      newLine = Number(header[2]);
      continue;
    }
    if (!hunk) continue;
    const kind = raw[0];
    if (kind !== ' ' && kind !== '+' && kind !== '-') continue;
    position++;
    hunk.text.push(raw);
    const line: DiffLine = {
      kind,
      oldLine: kind === '+' ? null : oldLine,
      newLine: kind === '-' ? null : newLine,
      position,
      indexInHunk: hunk.text.length - 1,
    };
    hunk.lines.push(line);
    if (kind !== '+') oldLine++;
    if (kind !== '-') newLine++;
  }
  return files;
}

export type Located = { position: number; diffHunk: string } | 'no-path' | 'no-line';

/** Where a comment on `path` at `line` (`side` RIGHT: new file, LEFT: old file) sits in the diff. */
export function locate(files: FileDiff[], path: string, line: number, side: 'LEFT' | 'RIGHT'): Located {
  const file = files.find((f) => f.path === path);
  if (!file) return 'no-path';
  for (const hunk of file.hunks) {
    const hit = hunk.lines.find((l) => (side === 'RIGHT' ? l.newLine : l.oldLine) === line);
    if (hit) return { position: hit.position, diffHunk: hunk.text.slice(0, hit.indexInHunk + 1).join('\n') };
  }
  return 'no-line';
}
