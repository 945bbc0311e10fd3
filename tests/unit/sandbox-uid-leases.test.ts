import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UidLeases } from '../../sandbox/local/uid-leases.js';

/** A random source that returns the given offsets in turn. */
const sequence = (...offsets: number[]) => {
  let i = 0;
  return () => offsets[i++ % offsets.length] as number;
};

describe('sandbox uid leases', () => {
  const setup = (offsets: number[], live: number[] = []) => {
    const root = mkdtempSync(join(tmpdir(), 'devbot-uids-'));
    const leases = new UidLeases({
      dir: join(root, 'leases'),
      base: 200_000,
      span: 1000,
      liveUids: async () => new Set(live),
      random: sequence(...offsets),
    });
    return { root, leases, dir: join(root, 'leases') };
  };

  it('never hands out a uid a process runs as, nor one already leased', async () => {
    // The first pick is a live uid, the next two are the same number: three sandboxes, three uids.
    const { root, leases, dir } = setup([1, 2, 2, 3], [200_001]);
    const a = await leases.claim(join(root, 'sb-a'));
    const b = await leases.claim(join(root, 'sb-b'));
    expect([a, b]).toEqual([200_002, 200_003]);
    expect((await leases.leased()).sort()).toEqual([200_002, 200_003]);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(join(dir, '200002'), 'utf8'))).toMatchObject({ pid: process.pid });
    await leases.release(a);
    expect(await leases.leased()).toEqual([200_003]);
  });

  it('takes over a lease whose process and sandbox are gone, and keeps one whose sandbox lives on', async () => {
    const { root, leases, dir } = setup([5, 5, 6]);
    mkdirSync(dir, { recursive: true });
    // A crashed devbot's lease: pid gone, directory gone.
    writeFileSync(
      join(dir, '200005'),
      JSON.stringify({ pid: 2 ** 22 + 7, host: hostname(), sandbox: join(root, 'gone') }),
    );
    expect(await leases.claim(join(root, 'sb-new'))).toBe(200_005);
    // A persistent chat sandbox made by a devbot that has since stopped: its files are owned by
    // the uid, so the uid stays its own.
    const kept = join(root, 'sb-chat');
    mkdirSync(kept);
    writeFileSync(join(dir, '200005'), JSON.stringify({ pid: 2 ** 22 + 7, host: hostname(), sandbox: kept }));
    expect(await leases.claim(join(root, 'sb-other'))).toBe(200_006);
    // Reattaching the chat sandbox leases its own uid again.
    expect(await leases.claim(kept, 200_005)).toBe(200_005);
  });

  it('says so when the range is exhausted instead of sharing a uid', async () => {
    const { root, leases } = setup([9], [200_009]);
    await expect(leases.claim(join(root, 'sb'))).rejects.toThrow(/no free sandbox uid/);
  });
});
