/**
 * What the executor runs for a repository without a `.devbot.yml` setup: with network access, a
 * Node lockfile means installing first (the copy never has node_modules); without network, or
 * when the repository names its own setup, nothing is added.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { detectChecks } from '../../agents/crew/executor.js';
import { createDirSandbox, type DirSandbox } from '../fakes/llm/dir-sandbox.js';

let sandbox: DirSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function repo(files: Record<string, string>): Promise<DirSandbox> {
  sandbox = await createDirSandbox();
  for (const [path, content] of Object.entries(files))
    await sandbox.writeFile(`${sandbox.workdir}/${path}`, content);
  return sandbox;
}

const pkg = JSON.stringify({
  name: 'x',
  scripts: { test: 'node --test' },
  dependencies: { 'left-pad': '1.3.0' },
});

describe('detectChecks', () => {
  it('installs from the lockfile first when the sandbox has network', async () => {
    const box = await repo({ 'package.json': pkg, 'package-lock.json': '{}' });
    expect(await detectChecks(box, {}, { network: true })).toEqual({
      setup: ['npm ci --no-audit --no-fund'],
      checks: [{ kind: 'test', command: 'npm test' }],
      source: 'detected',
    });
    // The same with a test command from .devbot.yml.
    expect((await detectChecks(box, { test: ['npm run unit'] }, { network: true })).setup).toEqual([
      'npm ci --no-audit --no-fund',
    ]);
  });

  it('knows pnpm and yarn lockfiles', async () => {
    expect(
      (await detectChecks(await repo({ 'package.json': pkg, 'pnpm-lock.yaml': '' }), {}, { network: true }))
        .setup,
    ).toEqual(['corepack pnpm install --frozen-lockfile']);
    await sandbox?.close();
    expect(
      (await detectChecks(await repo({ 'package.json': pkg, 'yarn.lock': '' }), {}, { network: true })).setup,
    ).toEqual(['corepack yarn install --frozen-lockfile']);
  });

  it('adds nothing without network, with node_modules present, or when .devbot.yml names a setup', async () => {
    const box = await repo({ 'package.json': pkg, 'package-lock.json': '{}' });
    expect((await detectChecks(box, {}, {})).setup).toEqual([]);
    expect((await detectChecks(box, { setup: ['make deps'] }, { network: true })).setup).toEqual([
      'make deps',
    ]);
    await box.writeFile(`${box.workdir}/node_modules/.keep`, '');
    expect((await detectChecks(box, {}, { network: true })).setup).toEqual([]);
  });
});
