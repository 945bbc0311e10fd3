/**
 * The seed flow with the gateway and the worker as separate devbots (one PGlite, one Redis
 * prefix): the worker owns the sandbox and records the preview token in Redis; the gateway's
 * `/preview/<token>/` forwards to the worker's own HTTP server.
 */
import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlClient } from '../../src/core/sql-client.js';
import { openTestPglite } from '../helpers/pglite-template.js';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';
import { removeDir, TEST_REDIS_URL, tempDir, uniquePrefix } from '../helpers/test-env.js';

const SEED = 'echo "Hello from devbot" > index.html && python3 -m http.server 8000';

describe('previews with --role gateway and --role worker in separate processes', () => {
  const prefix = uniquePrefix();
  const dataDir = tempDir();
  const redis = new Redis(TEST_REDIS_URL);
  let sql: SqlClient;
  let gateway: TestDevbot;
  let worker: TestDevbot;

  beforeAll(async () => {
    sql = await openTestPglite();
    const env = {
      DEVBOT_QUEUE_PREFIX: prefix,
      DEVBOT_PREVIEW_TTL: '60',
      DEVBOT_SANDBOX_TIMEOUT_MS: '3000',
      DEVBOT_SANDBOX_MAX_PROCS: '64',
    };
    gateway = await startTestDevbot({
      role: 'gateway',
      sql,
      dataDir,
      env,
    });
    worker = await startTestDevbot({
      role: 'worker',
      sql,
      dataDir,
      env: { ...env, DEVBOT_PUBLIC_URL: gateway.app.url },
    });
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    await gateway?.stop();
    await sql?.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    removeDir(dataDir);
  });

  it('the preview URL on the gateway serves the page from the worker’s sandbox', async () => {
    const res = await gateway.api.createTask({ kind: 'shell', command: SEED, preview: { port: 8000 } });
    expect(res.status).toBe(202);
    const { events } = await gateway.api.stream(res.body.id as string);
    const ready = events.find((e) => e.type === 'preview_ready');
    expect(ready, events.map((e) => e.type).join(', ')).toBeDefined();
    const url = ready!.data['url'] as string;
    const match = new RegExp(`^${gateway.app.url}/preview/([A-Za-z0-9_-]{22})/$`).exec(url);
    expect(match, url).not.toBeNull();
    const token = match![1]!;

    // The gateway's own registry has never seen the token: it came through Redis.
    const shared = JSON.parse((await redis.get(`${prefix}:preview:${token}`)) ?? 'null');
    expect(shared).toMatchObject({ url: worker.app.runtime.internalUrl() });
    expect(worker.app.runtime.internalUrl()).toBe(worker.app.url);
    expect(worker.app.url).not.toBe(gateway.app.url);

    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toBe('Hello from devbot\n');
    // Without the trailing slash: redirected under the gateway's prefix, like a local preview.
    const bare = await fetch(url.slice(0, -1), { redirect: 'manual' });
    expect(bare.status).toBe(308);
    expect(bare.headers.get('location')).toBe(`/preview/${token}/`);
    // A path that climbs out of the preview is not forwarded (fetch would normalize it away).
    expect(await rawStatus(`${url}index.html`)).toBe(200);
    for (const climb of ['../../tasks', '%2e%2e/%2E%2e/tasks', 'x/./index.html']) {
      expect(await rawStatus(`${url}${climb}`), climb).toBe(404);
    }
  }, 60_000);

  it('answers 404 through the gateway for an unknown token', async () => {
    for (const token of ['not-a-real-token', randomBytes(16).toString('base64url')]) {
      const res = await fetch(`${gateway.app.url}/preview/${token}/`);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: 'not_found' });
    }
  });

  it('answers 502 when the worker that holds the preview does not answer', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const token = randomBytes(16).toString('base64url');
    await redis.set(
      `${prefix}:preview:${token}`,
      JSON.stringify({ url: `http://127.0.0.1:${port}`, expiresAt: Date.now() + 60_000 }),
      'PX',
      60_000,
    );
    const res = await fetch(`${gateway.app.url}/preview/${token}/`);
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ error: 'bad_gateway' });
  });
});

/** GET with the path sent exactly as written (no URL normalization). */
function rawStatus(url: string): Promise<number> {
  const { host } = new URL(url);
  const path = url.slice(url.indexOf(host) + host.length);
  return new Promise((resolve, reject) => {
    get(`http://${host}/`, { path }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}
