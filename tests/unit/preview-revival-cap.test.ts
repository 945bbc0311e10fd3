/**
 * Opening a dead preview link needs no login and preview links are public (PR comments, check
 * runs): the attack opens many known links at once. Each revival builds a workspace and a sandbox,
 * so one process builds at most `maxConcurrent` at once; the rest wait their turn (issue 13).
 */
import { describe, expect, it } from 'vitest';
import type { PreviewRecord } from '../../src/core/index.js';
import type { Logger } from '../../src/observability/logger.js';
import type { PreviewRevivalDeps } from '../../src/worker/preview-revival.js';
import { MAX_CONCURRENT_REVIVALS, PreviewRevival } from '../../src/worker/preview-revival.js';

describe('preview revivals under many opened links', () => {
  it('build at most MAX_CONCURRENT_REVIVALS at once, and every one in turn', async () => {
    let active = 0;
    let most = 0;
    let opened = 0;
    const release: Array<() => void> = [];
    const record = (token: string): PreviewRecord => ({
      token,
      taskId: `task-${token}`,
      repo: 'acme/site',
      branch: 'devbot/x',
      commit: 'a'.repeat(40),
      command: 'serve',
      port: 8000,
    });
    const deps = {
      records: { record: async () => {}, get: async (token: string) => record(token) },
      // The build's first step: held open until the test lets it end (as a failure, to stop there).
      host: {
        open: async () => {
          opened += 1;
          active += 1;
          most = Math.max(most, active);
          await new Promise<void>((resolve) => release.push(resolve));
          active -= 1;
          throw new Error('stopped by the test');
        },
      },
      workspaces: {},
      sandboxes: {},
      leases: {},
      alias: () => {},
      logger: { warn: () => {}, info: () => {} } as unknown as Logger,
    } as unknown as PreviewRevivalDeps;
    const revival = new PreviewRevival(deps);

    const tokens = Array.from({ length: 10 }, (_, i) => `token-${String(i).padStart(12, '0')}`);
    const answers = await Promise.all(tokens.map((t) => revival.revive(t)));
    expect(answers.every((a) => a.state === 'starting')).toBe(true);
    // Opening them all again starts nothing more.
    await Promise.all(tokens.map((t) => revival.revive(t)));
    const settle = () => new Promise((r) => setTimeout(r, 5));
    await settle();
    expect(opened).toBe(MAX_CONCURRENT_REVIVALS);
    while (release.length > 0) {
      for (const r of release.splice(0)) r();
      await settle();
    }
    expect(opened).toBe(tokens.length);
    expect(most).toBe(MAX_CONCURRENT_REVIVALS);
    // Each ended with its own answer, remembered (the next open does not build again).
    expect((await revival.revive(tokens[0] as string)).state).toBe('failed');
    expect(opened).toBe(tokens.length);
  });
});
