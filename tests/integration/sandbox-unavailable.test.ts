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

describe('an AppArmor profile asked for where it cannot be applied', () => {
  it('makes the local sandbox unavailable with what to do, never unconfined', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { LocalSandboxProvider } = await import('../../sandbox/local/local-sandbox-provider.js');
    const { readAppArmorState } = await import('../../sandbox/local/apparmor.js');
    const provider = new LocalSandboxProvider({
      baseDir: join(mkdtempSync(join(tmpdir(), 'devbot-aa-')), 'sandboxes'),
      previews: {
        publish: async () => ({ url: 'http://x', token: 't' }),
        unpublish: async () => {},
      } as never,
      warm: 0,
      appArmorProfile: 'devbot-sandbox',
    });
    const state = await readAppArmorState();
    const outcome = await provider.check().then(
      () => 'started',
      (err: Error) => err.message,
    );
    // This machine may have AppArmor with the profile loaded (then it starts confined); anywhere
    // else the refusal names what is missing.
    if (state.enabled && state.profiles?.includes('devbot-sandbox')) expect(outcome).toBe('started');
    else expect(outcome).toMatch(/AppArmor|aa-exec|not loaded/);
    await provider.close();
  });
});
