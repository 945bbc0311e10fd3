/**
 * Repository webhooks and the App manifest flow on the fake GitHub: who may manage hooks, what
 * GitHub refuses, signed deliveries (the ping on creation included); a manifest posted to the
 * "new App" page comes back as a one-time code, the code turns into an App whose generated key
 * really authenticates (through Probot, as devbot does), and its installation reaches only its
 * account's repositories with only the permissions the manifest asked for.
 */
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Probot } from 'probot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeGithub, startFakeGithub } from '../fakes/github/fake-github.js';
import { describeIssue, schemaIssues, webhookSchema } from '../fakes/github/openapi-schema.js';
import { issueOpened } from '../fakes/github/webhook-payloads.js';

let gh: FakeGithub;
let receiver: Server;
let hookUrl: string;
const received: Array<{ path: string; headers: IncomingMessage['headers']; body: string }> = [];

async function call(method: string, path: string, auth: string | null, body?: unknown) {
  const res = await fetch(`${gh.url}${path}`, {
    method,
    redirect: 'manual',
    headers: { ...(auth ? { authorization: auth } : {}), 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  const json =
    res.headers.get('content-type')?.startsWith('application/json') && text ? JSON.parse(text) : null;
  return { status: res.status, json, text, headers: res.headers };
}

const signature = (secret: string, body: string) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

beforeAll(async () => {
  gh = await startFakeGithub();
  await gh.createRepo({ owner: 'acme', name: 'app' });
  await gh.createRepo({ owner: 'zoe', name: 'elsewhere' });
  gh.setPermission('acme', 'app', 'mia', 'write');
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await gh?.close();
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
});

describe('fake GitHub repository webhooks', () => {
  it('lets an admin token with a hook scope register a hook, and pings it signed', async () => {
    const admin = `token ${gh.registerPersonalToken({ login: 'acme', scopes: ['admin:repo_hook'] })}`;
    const created = await call('POST', '/repos/acme/app/hooks', admin, {
      name: 'web',
      config: { url: `${hookUrl}/json`, content_type: 'json', secret: 'hook-secret' },
      events: ['issues', 'pull_request'],
      active: true,
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      active: true,
      events: ['issues', 'pull_request'],
      config: { secret: '********' },
    });
    await gh.settled();
    const ping = received.find((r) => r.path === '/json' && r.headers['x-github-event'] === 'ping')!;
    expect(ping.headers['x-hub-signature-256']).toBe(signature('hook-secret', ping.body));
    expect(ping.headers['x-github-hook-id']).toBe(String(created.json.id));
    const payload = JSON.parse(ping.body) as Record<string, unknown>;
    expect(payload).toMatchObject({ hook_id: created.json.id, zen: expect.any(String) });
    expect(payload['installation']).toBeUndefined();
    const schema = webhookSchema('ping', undefined)!;
    expect(schemaIssues(schema, payload).map((i) => describeIssue(i, 'ping'))).toEqual([]);
    const listed = await call('GET', '/repos/acme/app/hooks', admin);
    expect(listed.json[0].last_response).toMatchObject({ code: 200, status: 'active' });
  });

  it('delivers only subscribed events to active hooks, json or form, signed with each secret', async () => {
    const admin = `token ${gh.registerPersonalToken({ login: 'acme', scopes: ['repo'] })}`;
    await call('POST', '/repos/acme/app/hooks', admin, {
      config: { url: `${hookUrl}/form`, secret: 'form-secret' },
      events: ['issues'],
    });
    await call('POST', '/repos/acme/app/hooks', admin, {
      config: { url: `${hookUrl}/prs`, content_type: 'json' },
      events: ['pull_request'],
    });
    const off = await call('POST', '/repos/acme/app/hooks', admin, {
      config: { url: `${hookUrl}/off`, content_type: 'json' },
      events: ['*'],
      active: false,
    });
    expect(off.status).toBe(201);
    await gh.settled();
    received.length = 0;
    const issue = gh.createIssue('acme', 'app', { title: 'Hello', user: 'mia' });
    const sent = await gh.deliverToRepoHooks(
      'acme',
      'app',
      issueOpened(gh, 'acme', 'app', issue.number, 'mia'),
    );
    expect(sent.map((d) => d.status)).toEqual([200, 200]);
    expect(received.map((r) => r.path).sort()).toEqual(['/form', '/json']);
    const form = received.find((r) => r.path === '/form')!;
    expect(form.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(form.headers['x-hub-signature-256']).toBe(signature('form-secret', form.body));
    const payload = JSON.parse(new URLSearchParams(form.body).get('payload')!) as Record<string, unknown>;
    expect(payload).toMatchObject({ action: 'opened', issue: { number: issue.number } });
    expect(payload['installation']).toBeUndefined();
  });

  it('keeps hooks to admins and hook scopes, and refuses what GitHub refuses', async () => {
    const writeHook = `token ${gh.registerPersonalToken({ login: 'acme', scopes: ['write:repo_hook'] })}`;
    const made = await call('POST', '/repos/acme/app/hooks', writeHook, { config: { url: `${hookUrl}/w` } });
    expect(made.status).toBe(201);
    expect(
      (await call('PATCH', `/repos/acme/app/hooks/${made.json.id}`, writeHook, { active: false })).json
        .active,
    ).toBe(false);
    // Deleting takes admin:repo_hook (or repo).
    expect((await call('DELETE', `/repos/acme/app/hooks/${made.json.id}`, writeHook)).status).toBe(404);
    const admin = `token ${gh.registerPersonalToken({ login: 'acme', scopes: ['admin:repo_hook'] })}`;
    expect((await call('DELETE', `/repos/acme/app/hooks/${made.json.id}`, admin)).status).toBe(204);
    expect((await call('GET', `/repos/acme/app/hooks/${made.json.id}`, admin)).status).toBe(404);
    // A writer is no admin: hooks do not exist for them.
    const mia = `token ${gh.registerPersonalToken({ login: 'mia', scopes: ['repo'] })}`;
    expect((await call('GET', '/repos/acme/app/hooks', mia)).status).toBe(404);
    const noScope = `token ${gh.registerPersonalToken({ login: 'acme', scopes: ['read:user'] })}`;
    expect((await call('GET', '/repos/acme/app/hooks', noScope)).status).toBe(404);
    const fineNo = `token ${gh.registerPersonalToken({ login: 'acme', permissions: { contents: 'write' } })}`;
    expect((await call('GET', '/repos/acme/app/hooks', fineNo)).status).toBe(403);
    const fineYes = `token ${gh.registerPersonalToken({ login: 'acme', permissions: { repository_hooks: 'write' } })}`;
    expect((await call('GET', '/repos/acme/app/hooks', fineYes)).status).toBe(200);
    // The App's installation was not granted repository hooks.
    const minted = await fetch(`${gh.url}/app/installations/${gh.installationId}/access_tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer e30.${Buffer.from('{"iss":12345}').toString('base64url')}.sig` },
    });
    const app = `token ${((await minted.json()) as { token: string }).token}`;
    expect((await call('GET', '/repos/acme/app/hooks', app)).status).toBe(403);
    for (const body of [
      { config: { content_type: 'json' } },
      { config: { url: `${hookUrl}/x` }, events: ['not_an_event'] },
      { config: { url: `${hookUrl}/json` } },
      { name: 'email', config: { url: `${hookUrl}/y` } },
    ]) {
      const refused = await call('POST', '/repos/acme/app/hooks', admin, body);
      expect(refused.status, JSON.stringify(body)).toBe(422);
      expect(refused.json).toMatchObject({
        message: 'Validation Failed',
        errors: [expect.objectContaining({ resource: 'Hook' })],
      });
    }
  });
});

describe('fake GitHub App manifest flow', () => {
  const manifest = {
    name: 'devbot for acme',
    url: 'https://devbot.example',
    hook_attributes: { url: 'https://devbot.example/github/webhooks' },
    redirect_url: 'http://devbot.local:8080/setup/github/callback',
    default_permissions: { contents: 'write', issues: 'write', pull_requests: 'write' },
    default_events: ['issues', 'issue_comment'],
  };

  it('turns the new-App form into a redirect with a one-time code and the state', async () => {
    for (const [path, owner, name] of [
      ['/settings/apps/new?state=s1', 'devbot-maker', 'devbot for maker'],
      ['/web/organizations/acme/settings/apps/new?state=s2', 'acme', 'devbot for acme'],
    ] as const) {
      const form = new URLSearchParams({ manifest: JSON.stringify({ ...manifest, name }) }).toString();
      const res = await fetch(`${gh.url}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
      });
      expect(res.status).toBe(302);
      const location = new URL(res.headers.get('location')!);
      expect(`${location.origin}${location.pathname}`).toBe(manifest.redirect_url);
      expect(location.searchParams.get('state')).toBe(path.split('state=')[1]);
      const code = location.searchParams.get('code')!;
      const converted = await call('POST', `/app-manifests/${code}/conversions`, null);
      expect(converted.status).toBe(201);
      expect(converted.json).toMatchObject({ name, owner: { login: owner } });
    }
    const bad = await fetch(`${gh.url}/settings/apps/new`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ manifest: '{"name": "no url"}' }).toString(),
    });
    expect(bad.status).toBe(422);
  });

  it('converts a code once into an App whose key authenticates and whose installation is scoped', async () => {
    gh.registerManifestCode('one-time', { ...manifest, name: 'devbot manifest app' }, 'acme');
    const converted = await call('POST', '/app-manifests/one-time/conversions', null);
    expect(converted.status).toBe(201);
    const made = converted.json as Record<string, unknown> & { id: number; pem: string };
    expect(made).toMatchObject({
      slug: 'devbot-manifest-app',
      owner: { login: 'acme' },
      external_url: 'https://devbot.example',
      permissions: { metadata: 'read', contents: 'write', issues: 'write', pull_requests: 'write' },
      events: ['issues', 'issue_comment'],
      webhook_secret: expect.stringMatching(/^[0-9a-f]{40}$/),
      client_id: expect.stringMatching(/^Iv23li/),
      client_secret: expect.stringMatching(/^[0-9a-f]{40}$/),
    });
    expect(made.pem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    const replay = await call('POST', '/app-manifests/one-time/conversions', null);
    expect(replay).toMatchObject({ status: 404, json: { message: 'Not Found' } });
    expect((await call('POST', '/app-manifests/never-issued/conversions', null)).status).toBe(404);

    // Probot signs the App's JWT with the new key, as devbot will.
    const probot = new Probot({ appId: made.id, privateKey: made.pem, baseUrl: gh.url, logLevel: 'fatal' });
    const appOctokit = await probot.auth();
    expect((await appOctokit.rest.apps.getAuthenticated()).data).toMatchObject({
      id: made.id,
      slug: 'devbot-manifest-app',
    });
    await expect(
      appOctokit.rest.apps.getRepoInstallation({ owner: 'acme', repo: 'app' }),
    ).rejects.toMatchObject({ status: 404 });
    const installationId = gh.installApp(made.id, 'acme');
    const { data: installation } = await appOctokit.rest.apps.getRepoInstallation({
      owner: 'acme',
      repo: 'app',
    });
    expect(installation.id).toBe(installationId);
    const octokit = await probot.auth(installationId);
    expect((await octokit.rest.repos.get({ owner: 'acme', repo: 'app' })).data.full_name).toBe('acme/app');
    await expect(octokit.rest.repos.get({ owner: 'zoe', repo: 'elsewhere' })).rejects.toMatchObject({
      status: 404,
    });
    await expect(
      octokit.rest.checks.create({ owner: 'acme', repo: 'app', name: 'x', head_sha: 'a'.repeat(40) }),
    ).rejects.toMatchObject({ status: 403 });

    // A JWT for the App signed with any other key is refused.
    const other = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    }).privateKey;
    const forged = new Probot({ appId: made.id, privateKey: other, baseUrl: gh.url, logLevel: 'fatal' });
    await expect((await forged.auth()).rest.apps.getAuthenticated()).rejects.toMatchObject({ status: 401 });
  });
});
