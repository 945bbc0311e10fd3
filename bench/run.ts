/**
 * `npm run bench`: runs every bench/*.bench.ts (or those named on the command line) one after
 * another, each measured against its baseline in the same run, and prints one JSON document.
 * Results are also written to bench/results/latest.json.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();

const results: Record<string, unknown>[] = [];
for (const file of files) {
  const started = Date.now();
  process.stderr.write(`bench: ${file}...\n`);
  try {
    const mod = (await import(pathToFileURL(join(here, file)).href)) as { run: () => Promise<unknown> };
    const result = await mod.run();
    results.push({ file, seconds: (Date.now() - started) / 1000, result });
  } catch (err) {
    results.push({ file, error: err instanceof Error ? err.message : String(err) });
  }
}
const doc = { at: new Date().toISOString(), node: process.version, results };
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'latest.json'), `${JSON.stringify(doc, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
process.exit(results.some((r) => 'error' in r) ? 1 : 0);
