import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxProvider } from '../../src/core/index.js';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';

/** A provider whose sandboxes outlive the process (like E2B): it reports which tasks it holds. */
function leakyProvider(taskIds: () => string[]) {
  const killed: string[] = [];
  const provider: SandboxProvider = {
    name: 'leaky',
    create: async () => {
      throw new Error('not used here');
    },
    check: async () => {},
    close: async () => {},
    async reap(isTaskFinished) {
      const now: string[] = [];
      for (const id of taskIds()) if (!killed.includes(id) && (await isTaskFinished(id))) now.push(id);
      killed.push(...now);
      return now;
    },
  };
  return { provider, killed };
}

describe('housekeeping at worker start', () => {
  let devbot: TestDevbot;
  const held: string[] = [];
  const leaky = leakyProvider(() => held);

  beforeAll(async () => {
    devbot = await startTestDevbot({ role: 'gateway', sandboxes: () => leaky.provider });
  });
  afterAll(async () => devbot?.stop());

  it('reaps sandboxes whose task ended or is unknown, and keeps those of live tasks', async () => {
    const live = (await devbot.api.createTask({ kind: 'question', prompt: 'still queued' })).body
      .id as string;
    const ended = (await devbot.api.createTask({ kind: 'question', prompt: 'will be cancelled' })).body
      .id as string;
    await devbot.api.request('POST', `/tasks/${ended}/cancel`);
    const unknown = '00000000-0000-0000-0000-000000000001';
    held.push(live, ended, unknown);
    const { startDevbot } = await import('../../src/app/start-devbot.js');
    // A worker on the same store and Redis runs housekeeping when it starts.
    const worker = await startDevbot({
      config: { ...devbot.config, PORT: 0 },
      role: 'worker',
      sql: devbot.app.runtime.sql,
      sandboxes: () => leaky.provider,
      reconcileIntervalMs: 0,
    });
    await worker.stop();
    expect(leaky.killed.sort()).toEqual([ended, unknown].sort());
  });
});
