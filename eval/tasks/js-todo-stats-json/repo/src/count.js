/** Counts the open and done checklist items in markdown text. */
export function countItems(markdown) {
  let open = 0;
  let done = 0;
  for (const line of markdown.split('\n')) {
    const trimmed = line.trimStart();
    if (trimmed.startsWith('- [ ]')) open += 1;
    else if (/^- \[[xX]\]/.test(trimmed)) done += 1;
  }
  return { open, done };
}

/** The human-readable summary line. */
export function describe(file, { open, done }) {
  const total = open + done;
  const percent = total === 0 ? 0 : Math.round((done / total) * 100);
  return `${file}: ${open} open, ${done} done (${percent}% done)`;
}
