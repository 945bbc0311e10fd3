/**
 * Security review (issue 13), finding 6: the routes that need no login give nothing away. /metrics
 * asks for DEVBOT_METRICS_TOKEN when it is set; /readyz answers only its status, and why it is not
 * ready goes to the log.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';
import { captureLogger } from '../helpers/test-env.js';

const TOKEN = randomBytes(24).toString('hex');

describe('ops routes', () => {
  let devbot: TestDevbot;
  const log = captureLogger();

  beforeAll(async () => {
    devbot = await startTestDevbot({ env: { DEVBOT_METRICS_TOKEN: TOKEN }, logger: log.logger });
  });
  afterAll(async () => devbot?.stop());

  it('/metrics wants the bearer token when DEVBOT_METRICS_TOKEN is set', async () => {
    const metrics = (authorization?: string) =>
      fetch(`${devbot.app.url}/metrics`, authorization ? { headers: { authorization } } : {});
    const none = await metrics();
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(await none.json()).toMatchObject({ error: 'unauthorized' });
    expect((await metrics(`Bearer ${TOKEN}x`)).status).toBe(401);
    expect((await metrics(`Bearer ${TOKEN.slice(1)}`)).status).toBe(401);
    // An API token is not the metrics token.
    expect((await metrics(`Bearer ${devbot.api.token}`)).status).toBe(401);
    const ok = await metrics(`Bearer ${TOKEN}`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('devbot_queue_depth');
    expect((await fetch(`${devbot.app.url}/healthz`)).status).toBe(200);
  });

  it('/readyz answers only {status}; the reason it is not ready goes to the log', async () => {
    const ready = await fetch(`${devbot.app.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok' });

    // The store goes away (its database closed under it).
    await devbot.app.runtime.sql.close();
    const down = await fetch(`${devbot.app.url}/readyz`);
    expect(down.status).toBe(503);
    const text = await down.text();
    expect(JSON.parse(text)).toEqual({ status: 'unavailable' });
    const logged = log.lines.map((l) => JSON.parse(l)).find((l) => l.dependency === 'store');
    expect(logged).toMatchObject({ level: 40, msg: 'not ready: store does not answer' });
    expect(logged.err.message.length).toBeGreaterThan(0);
    expect(text).not.toContain(logged.err.message);
  });
});
