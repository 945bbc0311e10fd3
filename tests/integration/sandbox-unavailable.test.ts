import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SandboxProvider, UnavailableError } from '../../src/core/index.js';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';
import { captureLogger } from '../helpers/test-env.js';

const REASON = 'bubblewrap (bwrap) is not installed: apt-get install bubblewrap';

/** What a machine without bwrap looks like to devbot. */
const missing: SandboxProvider = {
  name: 'local',
  check: async () => {
    throw new UnavailableError(REASON);
  },
  create: async () => {
    throw new UnavailableError(REASON);
  },
  close: async () => {},
};

describe('no usable sandbox', () => {
  let devbot: TestDevbot;
  const { logger, lines } = captureLogger();

  beforeAll(async () => {
    devbot = await startTestDevbot({
      logger,
      sandboxes: () => missing,
    });
  });
  afterAll(async () => devbot?.stop());

  it('starts anyway, says why at start, and fails sandbox tasks with that reason', async () => {
    expect(
      lines.some(
        (l) => l.includes('"level":50') && l.includes('sandboxes are unavailable') && l.includes(REASON),
      ),
    ).toBe(true);
    expect((await fetch(`${devbot.app.url}/healthz`)).status).toBe(200);
    const created = await devbot.api.createTask({ kind: 'shell', command: 'echo hi' });
    const ended = await devbot.api.waitForEnd(created.body.id);
    expect(ended.status).toBe('failed');
    expect(ended.error).toContain(REASON);
    expect(ended.attempts).toBe(1);
  });
});
