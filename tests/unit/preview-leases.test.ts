import { describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/core/index.js';
import { PreviewLeases } from '../../src/worker/preview-leases.js';

/** A lease whose release is recorded; the sandbox is only an id here. */
function lease(id: string, released: string[]) {
  return {
    taskId: `task-${id}`,
    sandbox: { id } as Sandbox,
    release: async () => {
      released.push(id);
    },
  };
}

describe('PreviewLeases with DEVBOT_PREVIEW_MAX', () => {
  it('the preview over the limit stops the least recently used one', async () => {
    const released: string[] = [];
    const leases = new PreviewLeases({ ttlMs: 60_000, max: 2 });
    leases.hold(lease('a', released));
    leases.hold(lease('b', released));
    leases.touch('a'); // a was just served: b is now the least recently used
    leases.hold(lease('c', released));
    await new Promise((r) => setImmediate(r));
    expect(released).toEqual(['b']);
    expect(leases.active).toBe(2);
    leases.hold(lease('d', released));
    await new Promise((r) => setImmediate(r));
    expect(released).toEqual(['b', 'a']);
    await leases.stop();
    expect(released.sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('without a limit, holds them all', async () => {
    const released: string[] = [];
    const leases = new PreviewLeases({ ttlMs: 60_000 });
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i']) leases.hold(lease(id, released));
    expect(leases.active).toBe(9);
    expect(released).toEqual([]);
    await leases.stop();
  });
});
