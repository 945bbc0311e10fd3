/**
 * Security review (issue 13), finding 1: bodies nobody vouched for must not cost memory. Each test
 * sends a large upload through a whole devbot's HTTP server (GitHub webhook, Telegram webhook,
 * API) and shows the request is refused before or at the cap, the server stops reading (the client
 * cannot push the rest), and this process's RSS (the server runs in it) hardly moves.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GITHUB_WEBHOOK_BODY_LIMIT } from '../../src/github/webhook-refusal.js';
import { type FakeGithub, startFakeGithub } from '../fakes/github/fake-github.js';
import { deliver, issueLabeled } from '../fakes/github/webhook-payloads.js';
import { FakeTelegramServer } from '../fakes/telegram/index.js';
import { githubAppEnv } from '../helpers/github-fixtures.js';
import { streamUpload } from '../helpers/stream-upload.js';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';

const MB = 1024 * 1024;
/** Far more than any cap: the old code read all of it (GitHub: into memory). */
const HUGE = 256 * MB;
/** What may sit in socket buffers between the client and a server that stopped reading. */
const IN_FLIGHT = 16 * MB;
/** "A few MB": a request refused from its headers must cost about nothing. */
const FEW_MB = 24 * MB;
/**
 * The connection ends this soon after a refusal (it ended after the 5 s keep-alive timeout, or
 * after the whole upload, when refusals left it open).
 */
const QUICK_MS = 2000;
const SECRET = `whsec-${randomBytes(12).toString('hex')}`;
const TELEGRAM_SECRET = `tg_${randomBytes(8).toString('hex')}`;

let gh: FakeGithub;
let telegram: FakeTelegramServer;
let devbot: TestDevbot;
let hookUrl: string;

/** A GitHub signature over `count` copies of `chunk`, without building the body. */
function signRepeated(chunk: Buffer, total: number): string {
  const hmac = createHmac('sha256', SECRET);
  for (let sent = 0; sent < total; sent += chunk.length)
    hmac.update(chunk.subarray(0, Math.min(chunk.length, total - sent)));
  return `sha256=${hmac.digest('hex')}`;
}

function githubHeaders(signature: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-github-event': 'issues',
    'x-github-delivery': randomBytes(8).toString('hex'),
    'x-hub-signature-256': signature,
  };
}

beforeAll(async () => {
  gh = await startFakeGithub({ appId: 4242, appSlug: 'devbot' });
  await gh.createRepo({ owner: 'acme', name: 'app', files: { 'README.md': '# app\n' } });
  gh.setPermission('acme', 'app', 'alice', 'write');
  telegram = await new FakeTelegramServer().start();
  devbot = await startTestDevbot({
    env: {
      ...githubAppEnv(gh, SECRET),
      TELEGRAM_BOT_TOKEN: telegram.token,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      TELEGRAM_WEBHOOK_URL: 'http://127.0.0.1:9/telegram/webhook',
      TELEGRAM_WEBHOOK_SECRET: TELEGRAM_SECRET,
      DEVBOT_BODY_LIMIT: String(64 * 1024),
    },
    github: { throttle: false },
    // The delivery that gets through only has to become a task.
    handlers: { dev: async () => ({ summary: 'nothing to do' }) },
  });
  hookUrl = `${devbot.app.url}/api/github/webhooks`;
}, 60_000);

afterAll(async () => {
  await devbot?.stop();
  await gh?.close();
  await telegram?.close();
});

describe('the GitHub webhook', () => {
  it('refuses an unsigned upload from its headers (401 naming what is missing) and reads none of it', async () => {
    const out = await streamUpload(hookUrl, {
      headers: { 'content-type': 'application/json' },
      totalBytes: HUGE,
    });
    expect(out.status).toBe(401);
    expect(JSON.parse(out.body)).toEqual({
      error: 'unauthorized',
      message: expect.stringContaining('missing x-hub-signature-256, x-github-event, x-github-delivery'),
    });
    expect(out.sentBytes).toBeLessThan(IN_FLIGHT);
    expect(out.closedMs).toBeLessThan(QUICK_MS);
    expect(out.rssGrowthBytes).toBeLessThan(FEW_MB);
  });

  it('400 when only the event or delivery header is missing; 401 for a signature that is not one', async () => {
    const post = (headers: Record<string, string>) =>
      fetch(hookUrl, { method: 'POST', headers, body: '{}' }).then(async (r) => ({
        status: r.status,
        body: await r.json(),
      }));
    const { 'x-github-event': _e, ...noEvent } = githubHeaders(signRepeated(Buffer.from('{}'), 2));
    expect(await post(noEvent)).toEqual({
      status: 400,
      body: { error: 'missing_headers', message: expect.stringContaining('missing x-github-event') },
    });
    expect(await post(githubHeaders('sha1=abc'))).toMatchObject({
      status: 401,
      body: { error: 'unauthorized' },
    });
    expect((await fetch(hookUrl)).status).toBe(405);
  });

  it('refuses a declared Content-Length over 25 MB with 413 before reading the body', async () => {
    const out = await streamUpload(hookUrl, {
      headers: githubHeaders(`sha256=${'0'.repeat(64)}`),
      totalBytes: HUGE,
      declareLength: true,
    });
    expect(out.status).toBe(413);
    expect(JSON.parse(out.body)).toMatchObject({ error: 'payload_too_large' });
    expect(out.sentBytes).toBeLessThan(IN_FLIGHT);
    expect(out.closedMs).toBeLessThan(QUICK_MS);
    expect(out.rssGrowthBytes).toBeLessThan(FEW_MB);
  });

  it('stops reading a chunked body at the cap: a correctly signed 26 MB delivery is 413', async () => {
    const total = 26 * MB;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const headers = githubHeaders(signRepeated(chunk, total));
    const declared = await streamUpload(hookUrl, { headers, totalBytes: total, declareLength: true, chunk });
    expect(declared.status).toBe(413);
    const chunked = await streamUpload(hookUrl, { headers, totalBytes: HUGE, chunk });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body)).toMatchObject({ error: 'payload_too_large' });
    expect(chunked.sentBytes).toBeLessThan(GITHUB_WEBHOOK_BODY_LIMIT + IN_FLIGHT);
    expect(chunked.closedMs).toBeLessThan(QUICK_MS * 2);
    // At most the cap is held, never the upload.
    expect(chunked.rssGrowthBytes).toBeLessThan(GITHUB_WEBHOOK_BODY_LIMIT + 32 * MB);
  });

  it('still takes a valid signed delivery, and rejects one whose signature does not match', async () => {
    const issue = gh.createIssue('acme', 'app', {
      title: 'Do it',
      body: 'please',
      user: 'alice',
      labels: ['devbot'],
    });
    const delivery = issueLabeled(gh, 'acme', 'app', issue.number, 'devbot', 'alice');
    const forged = await deliver(hookUrl, SECRET, delivery, { signature: `sha256=${'ab'.repeat(32)}` });
    expect(forged.status).toBe(400);
    expect(await devbot.app.runtime.store.listTasks({ source: 'github' })).toHaveLength(0);
    const res = await deliver(hookUrl, SECRET, delivery);
    expect(res.status).toBe(200);
    const tasks = await devbot.app.runtime.store.listTasks({ source: 'github' });
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ repo: 'acme/app', requester: 'gh:alice' });
  });
});

describe('the Telegram webhook', () => {
  const url = () => `${devbot.app.url}/telegram/webhook`;

  it('refuses an upload without the secret before reading it', async () => {
    const out = await streamUpload(url(), {
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'wrong' },
      totalBytes: HUGE,
    });
    expect(out.status).toBe(401);
    expect(out.sentBytes).toBeLessThan(IN_FLIGHT);
    expect(out.closedMs).toBeLessThan(QUICK_MS);
    expect(out.rssGrowthBytes).toBeLessThan(FEW_MB);
  });

  it('stops reading a body with the secret at 1 MB (413)', async () => {
    const out = await streamUpload(url(), {
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TELEGRAM_SECRET },
      totalBytes: HUGE,
    });
    expect(out.status).toBe(413);
    expect(out.sentBytes).toBeLessThan(MB + IN_FLIGHT);
    expect(out.closedMs).toBeLessThan(QUICK_MS);
    expect(out.rssGrowthBytes).toBeLessThan(FEW_MB);
  });
});

describe('the API', () => {
  const url = () => `${devbot.app.url}/tasks`;

  it('refuses an unauthenticated upload (401) without reading it', async () => {
    const out = await streamUpload(url(), {
      headers: { 'content-type': 'application/json' },
      totalBytes: HUGE,
    });
    expect(out.status).toBe(401);
    expect(out.sentBytes).toBeLessThan(IN_FLIGHT);
    expect(out.closedMs).toBeLessThan(QUICK_MS);
    expect(out.rssGrowthBytes).toBeLessThan(FEW_MB);
  });

  it('stops reading an authenticated chunked body at DEVBOT_BODY_LIMIT (413)', async () => {
    const out = await streamUpload(url(), {
      headers: { 'content-type': 'application/json', authorization: `Bearer ${devbot.api.token}` },
      totalBytes: HUGE,
    });
    expect(out.status).toBe(413);
    expect(JSON.parse(out.body)).toMatchObject({ error: 'payload_too_large' });
    expect(out.sentBytes).toBeLessThan(IN_FLIGHT);
    expect(out.closedMs).toBeLessThan(QUICK_MS);
    expect(out.rssGrowthBytes).toBeLessThan(FEW_MB);
  });
});
