/**
 * The seed flow with the gateway and the worker as separate devbots (one PostgreSQL schema, one
 * Redis prefix): the worker owns the sandbox and records the preview token in Redis; the gateway's
 * `/preview/<token>/` forwards to the worker's own HTTP server. A dead preview opened at the
 * gateway (its sandbox gone, or its worker gone) is revived by the worker through the `previews`
 * queue: the gateway shows the starting page, then proxies the revived preview.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { PreviewRecord } from '../../src/core/index.js';
import { SqlPreviewRecords } from '../../src/store/sql-preview-records.js';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';
import {
  dropSchema,
  removeDir,
  TEST_REDIS_URL,
  tempDir,
  uniquePrefix,
  uniqueSchema,
  waitFor,
} from '../helpers/test-env.js';

const SEED = 'echo "Hello from devbot" > index.html && python3 -m http.server 8000';
const PREVIEW = 'python3 -m http.server 8000';
const run = promisify(execFile);

describe('previews with --role gateway and --role worker in separate processes', () => {
  const prefix = uniquePrefix();
  const schema = uniqueSchema();
  const dataDir = tempDir();
  const reposDir = mkdtempSync(join(tmpdir(), 'devbot-split-repos-'));
  const redis = new Redis(TEST_REDIS_URL);
  let gateway: TestDevbot;
  let worker: TestDevbot;
  let sha = '';

  beforeAll(async () => {
    const site = join(reposDir, 'site');
    mkdirSync(site);
    const git = (...args: string[]) => run('git', ['-C', site, ...args]);
    await git('init', '-q', '-b', 'main');
    writeFileSync(join(site, 'index.html'), 'hello revived\n');
    await git('add', '.');
    await git('-c', 'user.name=Me', '-c', 'user.email=me@example.com', 'commit', '-qm', 'first');
    sha = (await git('rev-parse', 'HEAD')).stdout.trim();
    const env = {
      DEVBOT_QUEUE_PREFIX: prefix,
      DEVBOT_PREVIEW_TTL: '60',
      DEVBOT_SANDBOX_TIMEOUT_MS: '3000',
      DEVBOT_SANDBOX_MAX_PROCS: '64',
      DEVBOT_REPOS_DIR: reposDir,
    };
    gateway = await startTestDevbot({ role: 'gateway', backend: 'postgres', pgSchema: schema, dataDir, env });
    worker = await startTestDevbot({
      role: 'worker',
      backend: 'postgres',
      pgSchema: schema,
      dataDir,
      env: { ...env, DEVBOT_PUBLIC_URL: gateway.app.url },
    });
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    await gateway?.stop();
    await dropSchema(schema);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    removeDir(dataDir);
    rmSync(reposDir, { recursive: true, force: true });
  });

  /** A stored preview of local/site (what a dev task records), its sandbox long gone. */
  const storedPreview = async (patch: Partial<PreviewRecord> = {}) => {
    const { task } = await gateway.app.runtime.store.createTask({
      source: 'api',
      requester: 'alice',
      kind: 'dev',
      repo: 'local/site',
      prompt: 'a page',
    });
    const token = randomBytes(16).toString('base64url');
    await new SqlPreviewRecords(gateway.app.runtime.sql).record({
      token,
      taskId: task.id,
      repo: 'local/site',
      branch: 'main',
      commit: sha,
      command: PREVIEW,
      port: 8000,
      ...patch,
    });
    return `${gateway.app.url}/preview/${token}/`;
  };
  /** The first open shows the starting page; the page refreshes until the preview is served. */
  const revived = async (url: string) => {
    const first = await fetch(url);
    const text = await first.text();
    expect(first.status, text).toBe(503);
    expect(text).toContain(`Starting the preview of local/site@${sha.slice(0, 7)}`);
    expect(text).toContain('<meta http-equiv="refresh"');
    return waitFor(
      async () => {
        const r = await fetch(url);
        return r.status === 200 ? r.text() : null;
      },
      'the revived preview',
      20_000,
    );
  };

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

  it('reads token revocations and streams tasks only where the API is served', async () => {
    expect(gateway.app.tokenRevocations).not.toBeNull();
    expect(worker.app.tokenRevocations).toBeNull();
    const { task } = await gateway.app.runtime.store.createTask({
      source: 'api',
      requester: 'alice',
      kind: 'shell',
      prompt: 'true',
    });
    const upgrade = (base: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/tasks/${task.id}/stream`, {
          headers: { authorization: `Bearer ${gateway.api.token}` },
        });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('error', () => resolve(-1));
      });
    expect(await upgrade(worker.app.url)).toBe(404);
    expect(await upgrade(gateway.app.url)).toBe(101);
  });

  it('answers 404 through the gateway for an unknown token', async () => {
    for (const token of ['not-a-real-token', randomBytes(16).toString('base64url')]) {
      const res = await fetch(`${gateway.app.url}/preview/${token}/`);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: 'not_found' });
    }
  });

  it('answers 502 when the live worker that holds the preview does not answer', async () => {
    const port = await closedPort();
    const token = randomBytes(16).toString('base64url');
    await redis.set(`${prefix}:preview-worker:busy-worker`, '1', 'PX', 60_000);
    await redis.set(
      `${prefix}:preview:${token}`,
      JSON.stringify({
        url: `http://127.0.0.1:${port}`,
        expiresAt: Date.now() + 60_000,
        worker: 'busy-worker',
      }),
      'PX',
      60_000,
    );
    const res = await fetch(`${gateway.app.url}/preview/${token}/`);
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ error: 'bad_gateway' });
  });

  it('a preview whose sandbox is gone, opened at the gateway, is revived by the worker and proxied', async () => {
    const url = await storedPreview();
    expect(await revived(url)).toBe('hello revived\n');
    // The gateway never held it: the worker registered the old link in Redis, under its presence.
    const token = /\/preview\/([\w-]+)\/$/.exec(url)?.[1] ?? '';
    const shared = JSON.parse((await redis.get(`${prefix}:preview:${token}`)) ?? 'null');
    expect(shared).toMatchObject({ url: worker.app.runtime.internalUrl() });
    expect(await redis.exists(`${prefix}:preview-worker:${shared.worker}`)).toBe(1);
  }, 30_000);

  it('a preview whose worker died is treated as dead and revived by a live worker', async () => {
    const url = await storedPreview();
    const token = /\/preview\/([\w-]+)\/$/.exec(url)?.[1] ?? '';
    // What a killed worker leaves behind: its registration, and no presence any more.
    const dead = `http://127.0.0.1:${await closedPort()}`;
    await redis.set(
      `${prefix}:preview:${token}`,
      JSON.stringify({ url: dead, expiresAt: Date.now() + 60_000, worker: 'killed-worker' }),
      'PX',
      60_000,
    );
    expect(await revived(url)).toBe('hello revived\n');
    const shared = JSON.parse((await redis.get(`${prefix}:preview:${token}`)) ?? 'null');
    expect(shared.url).toBe(worker.app.runtime.internalUrl());
  }, 30_000);

  it('keeps the 410s: a shell preview at once, a deleted branch once the worker has tried', async () => {
    const shell = await fetch(await storedPreview({ repo: null, commit: null, command: null }));
    expect(shell.status).toBe(410);
    expect(await shell.text()).toContain('previews of shell tasks last DEVBOT_PREVIEW_TTL');
    const url = await storedPreview({ branch: 'deleted-branch' });
    expect((await fetch(url)).status).toBe(503);
    const gone = await waitFor(
      async () => {
        const r = await fetch(url);
        return r.status === 410 ? r.text() : null;
      },
      'a 410 from the worker’s answer',
      15_000,
    );
    expect(gone).toContain('The branch of this preview is gone');
  }, 30_000);
});

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as { port: number }).port;
  await new Promise((r) => closed.close(r));
  return port;
}

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
