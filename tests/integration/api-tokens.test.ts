import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlApiTokenLog } from '../../src/store/sql-api-tokens.js';
import { ApiClient } from '../helpers/api-client.js';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';

/**
 * API tokens have ids, expire after 30 days by default, and can be listed and revoked by an admin
 * (here through /tokens; `devbot token` in tests/integration/cli.test.ts). A revocation made by
 * another process reaches the gateway through the database within the poll interval.
 */
describe('API tokens: issue, list, revoke', () => {
  let devbot: TestDevbot;
  let admin: ApiClient;

  beforeAll(async () => {
    devbot = await startTestDevbot({ backend: 'postgres', tokenRevocationPollMs: 100 });
    admin = await devbot.client('root', ['tasks:read', 'tasks:write', 'admin']);
  });
  afterAll(async () => {
    await devbot?.stop();
  });

  const call = (client: ApiClient, method: string, path: string, body?: unknown) =>
    fetch(`${devbot.app.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${client.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('issues a recorded token with an id and a 30-day expiry; lists ids, never tokens; only for admins', async () => {
    const res = await call(admin, 'POST', '/tokens', { user: 'carol' });
    expect(res.status).toBe(201);
    const issued = (await res.json()) as { token: string; id: string; expiresAt: string; scopes: string[] };
    expect(issued.scopes).toEqual(['tasks:read', 'tasks:write']);
    const days = (Date.parse(issued.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
    const carol = new ApiClient(devbot.app.url, issued.token);
    expect((await call(carol, 'GET', '/tasks')).status).toBe(200);

    const list = await call(admin, 'GET', '/tokens');
    const text = await list.text();
    expect(text).not.toContain(issued.token);
    const { tokens } = JSON.parse(text) as { tokens: { id: string; subject: string; revokedAt: null }[] };
    expect(tokens).toContainEqual(
      expect.objectContaining({ id: issued.id, subject: 'carol', revokedAt: null }),
    );

    // A plain token may neither list, issue nor revoke.
    expect((await call(carol, 'GET', '/tokens')).status).toBe(403);
    expect((await call(carol, 'POST', '/tokens', { user: 'carol', admin: true })).status).toBe(403);
    expect((await call(carol, 'DELETE', `/tokens/${issued.id}`)).status).toBe(403);
  });

  it('refuses a token revoked here at once, and one revoked by another process within the poll', async () => {
    const issue = async (user: string) =>
      (await (await call(admin, 'POST', '/tokens', { user })).json()) as { token: string; id: string };
    const here = await issue('dave');
    const dave = new ApiClient(devbot.app.url, here.token);
    expect((await call(dave, 'GET', '/tasks')).status).toBe(200);
    const del = await call(admin, 'DELETE', `/tokens/${here.id}`);
    expect(await del.json()).toEqual({ id: here.id, revoked: true, already: false });
    const refused = await call(dave, 'GET', '/tasks');
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { message: string }).message).toMatch(/the token was revoked/);
    // Again: said, nothing changes.
    expect(await (await call(admin, 'DELETE', `/tokens/${here.id}`)).json()).toMatchObject({ already: true });

    // `devbot token --revoke` on PostgreSQL writes the row from another process.
    const there = await issue('erin');
    const erin = new ApiClient(devbot.app.url, there.token);
    expect((await call(erin, 'GET', '/tasks')).status).toBe(200);
    expect(await new SqlApiTokenLog(devbot.app.runtime.sql).revoke(there.id)).toBe(true);
    await expect.poll(async () => (await call(erin, 'GET', '/tasks')).status, { timeout: 5000 }).toBe(401);
  });

  it('manages users for admins only (what devbot users calls while devbot holds the embedded database)', async () => {
    const plain = await devbot.client('dave');
    expect((await call(plain, 'GET', '/users')).status).toBe(403);
    expect((await call(plain, 'POST', '/users/dave/grants', { pattern: '*' })).status).toBe(403);
    expect((await call(plain, 'PUT', '/users/dave/login', { login: 'dave' })).status).toBe(403);
    expect((await call(plain, 'DELETE', '/users/tg:42/login')).status).toBe(403);
    expect((await call(plain, 'GET', '/memories')).status).toBe(403);

    expect((await call(admin, 'POST', '/users/tg:42/grants', { pattern: 'acme/*' })).status).toBe(201);
    expect((await call(admin, 'PUT', '/users/tg:42/login', { login: 'octocat' })).status).toBe(200);
    const { users } = (await (await call(admin, 'GET', '/users')).json()) as { users: unknown[] };
    expect(users).toContainEqual({ subject: 'tg:42', login: 'octocat', grants: ['acme/*'] });
    const revoke = await call(admin, 'DELETE', `/users/tg:42/grants?pattern=${encodeURIComponent('acme/*')}`);
    expect(await revoke.json()).toMatchObject({ removed: true });
    expect(await (await call(admin, 'DELETE', '/users/tg:42/login')).json()).toMatchObject({ removed: true });
    expect((await call(admin, 'POST', '/users/tg:42/grants', { pattern: 'acme/../x' })).status).toBe(400);
    expect((await call(admin, 'PUT', '/users/a%20b/login', { login: 'octocat' })).status).toBe(400);
    expect((await call(admin, 'PUT', '/users/tg:42/login', { login: 'bad login!' })).status).toBe(400);

    // An admin's dashboard session (its cookie) on a forged request without the dashboard's header
    // (a form from another page, a preview's script): no link, no grant, no memory forgotten.
    const cookieOnly = (method: string, path: string, body?: string) =>
      fetch(`${devbot.app.url}${path}`, {
        method,
        headers: {
          cookie: `devbot_session=${admin.token}`,
          ...(body === undefined ? {} : { 'content-type': 'text/plain' }),
        },
        ...(body === undefined ? {} : { body }),
      });
    const forged = await cookieOnly('PUT', '/users/tg:43/login', '{"login":"octocat"}');
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain('x-devbot-ui');
    expect((await cookieOnly('POST', '/users/tg:43/grants', '{"pattern":"*"}')).status).toBe(403);
    expect((await cookieOnly('DELETE', '/memories?repo=acme/app')).status).toBe(403);
    expect((await cookieOnly('POST', '/tokens', '{"user":"mallory","admin":true}')).status).toBe(403);
    const after = (await (await call(admin, 'GET', '/users')).json()) as {
      users: Array<{ subject: string }>;
    };
    expect(after.users.map((u) => u.subject)).not.toContain('tg:43');
    // The cookie itself is a session: a read works (the browser sends it only from devbot's pages).
    expect((await cookieOnly('GET', '/users')).status).toBe(200);
  });

  it('answers bad input with 400 and a reason', async () => {
    const bad = async (method: string, path: string, body?: unknown) => {
      const res = await call(admin, method, path, body);
      return { status: res.status, body: (await res.json()) as { error: string; message: string } };
    };
    expect(await bad('POST', '/tokens', { user: 'a b' })).toMatchObject({
      status: 400,
      body: { message: expect.stringMatching(/letters, digits/) },
    });
    expect(await bad('POST', '/tokens', { user: 'ok', ttlSeconds: -5 })).toMatchObject({ status: 400 });
    expect(await bad('POST', '/tokens', { user: 'ok', scopes: ['admin'] })).toMatchObject({ status: 400 });
    expect(await bad('DELETE', '/tokens/x')).toMatchObject({
      status: 400,
      body: { error: 'invalid_token_id' },
    });
  });
});
