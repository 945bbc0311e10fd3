#!/usr/bin/env node
// The `devbot` launcher. Which code runs depends on where this file lives, never on whether a
// dist/ happens to exist (a forgotten build would otherwise shadow every later edit of src/):
//  - a source checkout (tsconfig.json and src/main.ts next to bin/): the TypeScript sources,
//    through tsx, so `npm start` and `npx devbot` need no build step;
//  - an installed package or the Docker image (no tsconfig.json shipped): the compiled dist/.
// A checkout installed without its dev dependencies (`npm ci --omit=dev`) cannot load tsx; it
// runs the build it was given, and says so.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sources = join(root, 'src', 'main.ts');
const built = join(root, 'dist', 'src', 'main.js');
const checkout = existsSync(join(root, 'tsconfig.json')) && existsSync(sources);

function hasTsx() {
  try {
    createRequire(import.meta.url).resolve('tsx/esm/api');
    return true;
  } catch {
    return false;
  }
}

if (checkout && hasTsx()) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(sources).href);
} else if (existsSync(built)) {
  if (checkout)
    process.stderr.write(
      'devbot: running the build in dist/ because tsx is not installed (npm install runs src/ directly)\n',
    );
  await import(pathToFileURL(built).href);
} else {
  process.stderr.write(
    checkout
      ? 'devbot: cannot run: tsx is not installed and there is no build; run `npm install` (or `npm run build`)\n'
      : `devbot: cannot run: ${built} is missing; this package was published without its build\n`,
  );
  process.exitCode = 1;
}
