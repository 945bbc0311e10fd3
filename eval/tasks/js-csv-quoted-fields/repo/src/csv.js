/** Splits CSV text into rows of fields. */
export function parseCsv(text) {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split(','));
}
