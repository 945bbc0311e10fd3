/**
 * Building the local sandbox's seccomp programs: once per data directory (then cached), and a
 * clear instruction when libseccomp's Python bindings are missing. What the programs deny is
 * proven from inside a real sandbox in tests/integration/sandbox-boundary.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { seccompFilters } from '../../sandbox/local/seccomp-filters.js';
import { UnavailableError } from '../../src/core/errors.js';
import { removeDir, tempDir } from '../helpers/test-env.js';

const hasBindings = spawnSync('/usr/bin/python3', ['-I', '-c', 'import seccomp']).status === 0;
const dir = tempDir('devbot-seccomp-');
afterAll(() => removeDir(dir));

describe('seccompFilters', () => {
  it.skipIf(!hasBindings)('compiles both programs once and then reuses them', async () => {
    const first = await seccompFilters(dir);
    expect(first.unknown).toEqual([]);
    const sizes = await Promise.all([first.sandbox, first.commands].map((p) => stat(p)));
    for (const s of sizes) {
      // BPF instructions are 8 bytes; the commands' program is read inside, by the sandbox's uid.
      expect(s.size % 8).toBe(0);
      expect(s.size).toBeGreaterThan(0);
      expect(s.mode & 0o777).toBe(0o644);
    }
    // A broken interpreter would fail a rebuild: the cache answers instead.
    const again = await seccompFilters(dir, ['/bin/false']);
    expect(again).toEqual(first);
    expect((await stat(again.sandbox)).mtimeMs).toBe(sizes[0]!.mtimeMs);
  });

  it('says to install python3-seccomp when the bindings are missing', async () => {
    // -S leaves out dist-packages, where Debian puts the bindings: an interpreter without them.
    const fresh = tempDir('devbot-seccomp-missing-');
    try {
      const failure = await seccompFilters(fresh, ['/usr/bin/python3', '-I', '-S']).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(UnavailableError);
      expect(String((failure as Error).message)).toMatch(/apt-get install python3-seccomp/);
    } finally {
      removeDir(fresh);
    }
  });
});
