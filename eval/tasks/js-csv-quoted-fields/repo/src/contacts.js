import { parseCsv } from './csv.js';

/** Maps a CSV export with a header row to one object per contact, keyed by the header names. */
export function toContacts(text) {
  const [header, ...rows] = parseCsv(text);
  if (!header) return [];
  return rows.map((row) => Object.fromEntries(header.map((name, i) => [name, row[i] ?? ''])));
}
