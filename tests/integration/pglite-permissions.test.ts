/**
 * Security review (issue 13), finding 5: the embedded database's files were 0666. A devbot on PGlite
 * (through the real start path: openInfrastructure opens DEVBOT_DATA_DIR/pglite) keeps its data
 * directory 0700 and every database file 0600, even in a data directory that already existed open.
 */
import { chmodSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { type DevbotApp, startDevbot } from '../../src/app/start-devbot.js';
import { removeDir, taskEnded, tempDir, testConfig } from '../helpers/test-env.js';

const dataDir = tempDir('devbot-perm-');
let app: DevbotApp | undefined;

afterAll(async () => {
  await app?.stop();
  removeDir(dataDir);
});

/** Every path under `dir` whose mode is not the private one, as "mode path". */
function notPrivate(dir: string): string[] {
  const wrong: string[] = [];
  const mode = (path: string) => statSync(path).mode & 0o777;
  const walk = (path: string) => {
    if (mode(path) !== 0o700) wrong.push(`${mode(path).toString(8)} ${path}`);
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile() && mode(child) !== 0o600) wrong.push(`${mode(child).toString(8)} ${child}`);
    }
  };
  walk(dir);
  return wrong;
}

it('the data directory is 0700 and the PGlite files 0600, while running and after stopping', async () => {
  // A data directory someone made earlier, open to everyone.
  chmodSync(dataDir, 0o755);
  app = await startDevbot({ config: testConfig({}, dataDir), reconcileIntervalMs: 0 });
  expect(statSync(dataDir).mode & 0o777).toBe(0o700);
  const pglite = join(dataDir, 'pglite');
  expect(readdirSync(pglite).length).toBeGreaterThan(5);
  expect(notPrivate(pglite)).toEqual([]);

  // Writes after opening create files the same way.
  const { task } = await app.runtime.ingress.submit({
    source: 'api',
    requester: 'alice',
    kind: 'question',
    prompt: 'anything',
  });
  await taskEnded(app.runtime.store, task.id);
  await app.stop();
  app = undefined;
  expect(notPrivate(pglite)).toEqual([]);
}, 60_000);
