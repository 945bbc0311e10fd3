import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploymentIdentity } from '../../src/store/deployment-identity.js';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';
import { captureLogger, uniquePrefix } from '../helpers/test-env.js';

/**
 * Two deployments on one Redis with the same queue prefix (a staging devbot next to production,
 * configured alike): each runs only its own tasks, none is failed as "does not exist", and the one
 * that saw the other's job says so once.
 */
describe('two deployments sharing a queue prefix', () => {
  const prefix = uniquePrefix();
  const ran = { a: [] as string[], b: [] as string[] };
  const logs = captureLogger();
  let a: TestDevbot;
  let b: TestDevbot;

  beforeAll(async () => {
    const handler = (who: 'a' | 'b') => ({
      question: async (ctx: { task: { id: string } }) => {
        ran[who].push(ctx.task.id);
        return { summary: `answered by ${who}` };
      },
    });
    a = await startTestDevbot({
      env: { DEVBOT_QUEUE_PREFIX: prefix },
      handlers: handler('a'),
      logger: logs.logger,
    });
    b = await startTestDevbot({ env: { DEVBOT_QUEUE_PREFIX: prefix }, handlers: handler('b') });
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('have their own identities', async () => {
    const [idA, idB] = await Promise.all([
      deploymentIdentity(a.app.runtime.sql),
      deploymentIdentity(b.app.runtime.sql),
    ]);
    expect(idA).toMatch(/^[0-9a-f]{12}$/);
    expect(idB).not.toBe(idA);
    // Asked again: the same id (it is stored, not made anew).
    expect(await deploymentIdentity(a.app.runtime.sql)).toBe(idA);
  });

  it('each runs only its own tasks, all of them, once', async () => {
    const create = async (devbot: TestDevbot, n: number) =>
      Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const res = await devbot.api.createTask({ kind: 'question', prompt: `q${i}` });
          expect(res.status).toBe(202);
          return res.body.id as string;
        }),
      );
    const [idsA, idsB] = await Promise.all([create(a, 8), create(b, 8)]);
    const ends = await Promise.all([
      ...idsA.map((id) => a.api.waitForEnd(id, 80_000)),
      ...idsB.map((id) => b.api.waitForEnd(id, 80_000)),
    ]);
    for (const end of ends) expect(end.status, end.error).toBe('succeeded');
    expect(ran.a.sort()).toEqual([...idsA].sort());
    expect(ran.b.sort()).toEqual([...idsB].sort());
    // However many of b's jobs a picked up, it said so at most once.
    expect(logs.lines.filter((l) => l.includes('another devbot deployment')).length).toBeLessThanOrEqual(1);
    // Each job taken by the other deployment goes back for 2 s: by chance a few jobs bounce several
    // times, and on a busy machine the delayed jobs come back late (4 to 20 s seen in suite runs).
  }, 90_000);
});

describe('zero-config deployments', () => {
  it('derive distinct queue prefixes from their identities', async () => {
    const one = await startTestDevbot({ env: { DEVBOT_QUEUE_PREFIX: '' } });
    const two = await startTestDevbot({ env: { DEVBOT_QUEUE_PREFIX: '' } });
    try {
      const prefixOf = (d: TestDevbot) => (d.app.queue.queue.opts.prefix as string | undefined) ?? '';
      expect(prefixOf(one)).toMatch(/^\{devbot-[0-9a-f]{12}\}$/);
      expect(prefixOf(two)).toMatch(/^\{devbot-[0-9a-f]{12}\}$/);
      expect(prefixOf(one)).not.toBe(prefixOf(two));
    } finally {
      await Promise.all([one.stop(), two.stop()]);
    }
  });
});
