/**
 * The layering rules (.dependency-cruiser.cjs, run by `npm run lint`) reject what
 * docs/architecture.md forbids: each case lays out a small tree in a scratch directory, with the
 * project's own rules file, and runs dependency-cruiser on it as the lint does.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const DEPCRUISE = join(ROOT, 'node_modules/.bin/depcruise');
const scratch: string[] = [];

afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** Lints a tree of files with the project's rules; returns the rules that failed. */
async function lint(files: Record<string, string>): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'devbot-layering-'));
  scratch.push(dir);
  copyFileSync(join(ROOT, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }),
  );
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  // The JSON report lists the violations (its exit code need not say there were any).
  const { stdout } = await run(
    DEPCRUISE,
    ['src', 'agents', 'sandbox', '--config', '.dependency-cruiser.cjs', '--output-type', 'json'],
    { cwd: dir },
  ).catch((err: { stdout: string }) => ({ stdout: err.stdout }));
  const report = JSON.parse(stdout) as { summary: { violations: { rule: { name: string } }[] } };
  return report.summary.violations.map((v) => v.rule.name);
}

const base = {
  'src/core/index.ts': 'export const x = 1;\n',
  'src/github/app.ts': "import { x } from '../core/index.js';\nexport const y = x;\n",
  'agents/crew.ts': "import { x } from '../src/core/index.js';\nexport const z = x;\n",
  'sandbox/local.ts': "import { x } from '../src/core/index.js';\nexport const w = x;\n",
};

describe('the layering lint', () => {
  it('passes imports that point inward', async () => {
    expect(
      await lint({
        ...base,
        'src/telegram/bot.ts': "import { x } from '../core/index.js';\nexport const b = x;\n",
        'src/app/wire.ts':
          "import { y } from '../github/app.js';\nimport { b } from '../telegram/bot.js';\nexport const c = [y, b];\n",
      }),
    ).toEqual([]);
  });

  it('rejects an adapter importing another adapter', async () => {
    expect(
      await lint({
        ...base,
        'src/telegram/bot.ts': "import { y } from '../github/app.js';\nexport const b = y;\n",
      }),
    ).toContain('adapter-telegram-is-isolated');
  });

  it('rejects core importing anything of the project', async () => {
    expect(
      await lint({
        ...base,
        'src/core/bad.ts': "import { y } from '../github/app.js';\nexport const q = y;\n",
      }),
    ).toContain('core-imports-nothing');
  });

  it('rejects agents reaching into an adapter, and the worker into one other than the queue', async () => {
    const failed = await lint({
      ...base,
      'agents/bad.ts': "import { y } from '../src/github/app.js';\nexport const q = y;\n",
      'src/worker/bad.ts': "import { y } from '../github/app.js';\nexport const r = y;\n",
    });
    expect(failed).toContain('agents-and-sandbox-use-core-only');
    expect(failed).toContain('worker-composes-ports');
  });

  it('rejects a lower layer importing the composition root, and import cycles', async () => {
    const failed = await lint({
      ...base,
      'src/app/root.ts': "import { y } from '../github/app.js';\nexport const root = y;\n",
      'src/gateway/api.ts': "import { root } from '../app/root.js';\nexport const api = root;\n",
      'src/store/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
      'src/store/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
    });
    expect(failed).toContain('app-is-the-top-of-the-library');
    expect(failed).toContain('no-circular');
  });
});
