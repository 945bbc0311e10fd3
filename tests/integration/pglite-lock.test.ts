/**
 * One process per embedded database: a second opener of the same PGlite directory is refused with
 * what to do, a lock left by a process that died is taken over, and closing releases it.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../src/core/index.js';
import { createPgliteClient } from '../../src/store/pglite-client.js';

const root = mkdtempSync(join(tmpdir(), 'devbot-pglite-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the embedded database lock', () => {
  it('refuses a second opener, naming DATABASE_URL, and lets the next one in after close', async () => {
    const dir = join(root, 'a');
    const first = await createPgliteClient({ dataDir: dir });
    try {
      const err = await createPgliteClient({ dataDir: dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnavailableError);
      expect(String((err as Error).message)).toMatch(/another devbot process \(pid \d+/);
      expect(String((err as Error).message)).toContain('DATABASE_URL');
    } finally {
      await first.close();
    }
    expect(existsSync(`${dir}.lock`)).toBe(false);
    const again = await createPgliteClient({ dataDir: dir });
    await again.close();
  }, 60_000);

  it('takes over a lock whose process is gone', async () => {
    const dir = join(root, 'b');
    // A pid that cannot be alive (above the kernel's pid limit), on this host.
    writeFileSync(`${dir}.lock`, `4194305 ${hostname()}\n`);
    const client = await createPgliteClient({ dataDir: dir });
    await client.close();
    expect(existsSync(`${dir}.lock`)).toBe(false);
  }, 60_000);
});
