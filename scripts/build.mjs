#!/usr/bin/env node
/**
 * `npm run build` (and `prepack`): compiles src/, agents/ and sandbox/ into dist/ and copies the
 * files the compiled code reads at run time next to it (tsc copies no assets): SQL migrations,
 * prompt files, anything that is not TypeScript. dist/ is emptied first, so a file deleted from
 * the sources never lingers in a build or a package.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
/** The folders tsconfig.build.json compiles; their non-TypeScript files are runtime assets. */
const SOURCE_DIRS = ['src', 'agents', 'sandbox'];

rmSync(dist, { recursive: true, force: true });

// tsc through node and its resolved path: no shell, no reliance on node_modules/.bin on PATH.
// --noCheck: the build only emits (the same JavaScript, in half the time on a busy machine);
// type checking is `npm run typecheck`, which CI and every commit run over the same sources.
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--noCheck'], {
  cwd: root,
  stdio: 'inherit',
});
if (compiled.status !== 0) {
  process.stderr.write('build: tsc failed\n');
  process.exit(compiled.status ?? 1);
}

let copied = 0;
for (const dir of SOURCE_DIRS) {
  const from = join(root, dir);
  if (existsSync(from)) copied += copyAssets(from);
}
process.stdout.write(`build: dist/ compiled, ${copied} asset file(s) copied\n`);

/** Copies every file under `dir` that tsc does not turn into JavaScript, keeping its path. */
function copyAssets(dir) {
  let count = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      count += copyAssets(path);
    } else if (entry.isFile() && !entry.name.endsWith('.ts')) {
      const target = join(dist, relative(root, path));
      mkdirSync(dirname(target), { recursive: true });
      cpSync(path, target);
      count += 1;
    }
  }
  return count;
}
