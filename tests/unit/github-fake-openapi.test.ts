/**
 * The fake GitHub must answer like GitHub: every response it sends while a client walks through
 * all its endpoints is checked against GitHub's OpenAPI description (@octokit/openapi).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeGithub, startFakeGithub } from '../fakes/github/fake-github.js';

type Schema = Record<string, unknown>;
interface Spec {
  paths: Record<string, Record<string, { responses: Record<string, Schema> }>>;
  components: Record<string, Record<string, Schema>>;
}

const require = createRequire(import.meta.url);
const specPath = join(
  dirname(require.resolve('@octokit/openapi/package.json')),
  'generated/api.github.com.json',
);
let spec: Spec;

function deref(node: Schema): Schema {
  let n = node;
  while (typeof n['$ref'] === 'string') {
    const [, , group, name] = (n['$ref'] as string).split('/');
    n = spec.components[group!]![name!]!;
  }
  return n;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** A small JSON-schema checker: $ref, allOf/anyOf/oneOf, type (+nullable), enum, required, properties, items. */
function validate(schemaIn: Schema, value: unknown, path: string, errors: string[]): void {
  const schema = deref(schemaIn);
  if (Array.isArray(schema['allOf']))
    for (const s of schema['allOf'] as Schema[]) validate(s, value, path, errors);
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key] as Schema[] | undefined;
    if (!options) continue;
    if (value === null && schema['nullable']) continue;
    const ok = options.some((s) => {
      const e: string[] = [];
      validate(s, value, path, e);
      return e.length === 0;
    });
    if (!ok) errors.push(`${path}: matches none of ${key}`);
  }
  const declared = schema['type'];
  if (declared !== undefined) {
    const types = Array.isArray(declared) ? (declared as string[]) : [declared as string];
    const actual = typeOf(value);
    const nullable = schema['nullable'] === true || types.includes('null');
    if (value === null) {
      if (!nullable) errors.push(`${path}: null is not allowed`);
      return;
    }
    const fits = types.includes(actual) || (actual === 'integer' && types.includes('number'));
    if (!fits) {
      errors.push(`${path}: expected ${types.join('|')}, got ${actual}`);
      return;
    }
  }
  if (Array.isArray(schema['enum']) && value !== null && !(schema['enum'] as unknown[]).includes(value))
    errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema['enum'])}`);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const key of (schema['required'] as string[] | undefined) ?? [])
      if (!(key in obj)) errors.push(`${path}.${key}: required but missing`);
    const props = (schema['properties'] as Record<string, Schema> | undefined) ?? {};
    for (const [key, sub] of Object.entries(props))
      if (key in obj && obj[key] !== undefined) validate(sub, obj[key], `${path}.${key}`, errors);
  }
  if (Array.isArray(value) && schema['items'])
    value.forEach((item, i) => {
      validate(schema['items'] as Schema, item, `${path}[${i}]`, errors);
    });
}

let gh: FakeGithub;
const jwt = () => ['e30', Buffer.from(JSON.stringify({ iss: 12345 })).toString('base64url'), 'sig'].join('.');

async function call(method: string, path: string, auth: string, body?: unknown) {
  const res = await fetch(`${gh.url}${path}`, {
    method,
    headers: {
      authorization: auth,
      'content-type': 'application/json',
      accept: 'application/vnd.github+json',
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

beforeAll(async () => {
  spec = JSON.parse(readFileSync(specPath, 'utf8')) as Spec;
  gh = await startFakeGithub({ appId: 12345 });
  await gh.createRepo({ owner: 'acme', name: 'app' });
  gh.setPermission('acme', 'app', 'mia', 'maintain');
});
afterAll(async () => {
  await gh?.close();
});

const EXPECTED_ROUTES = [
  'GET /app',
  'POST /app/installations/{installation_id}/access_tokens',
  'GET /repos/{owner}/{repo}/installation',
  'GET /repos/{owner}/{repo}',
  'GET /repos/{owner}/{repo}/collaborators/{username}/permission',
  'POST /repos/{owner}/{repo}/issues',
  'GET /repos/{owner}/{repo}/issues/{issue_number}',
  'GET /repos/{owner}/{repo}/issues/{issue_number}/comments',
  'POST /repos/{owner}/{repo}/issues/{issue_number}/comments',
  'GET /repos/{owner}/{repo}/issues/comments/{comment_id}',
  'PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}',
  'POST /repos/{owner}/{repo}/issues/{issue_number}/reactions',
  'POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions',
  'POST /repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions',
  'GET /repos/{owner}/{repo}/pulls',
  'POST /repos/{owner}/{repo}/pulls',
  'GET /repos/{owner}/{repo}/pulls/{pull_number}',
  'POST /repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies',
  'POST /repos/{owner}/{repo}/check-runs',
  'PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}',
];

describe('fake GitHub vs the OpenAPI description', () => {
  it('every response of every endpoint has the documented shape', async () => {
    const app = `Bearer ${jwt()}`;
    expect((await call('GET', '/app', app)).status).toBe(200);
    const minted = await call('POST', `/app/installations/${gh.installationId}/access_tokens`, app);
    expect(minted.status).toBe(201);
    const token = `token ${minted.json.token}`;
    await call('GET', '/repos/acme/app/installation', app);
    await call('GET', '/repos/acme/app', token);
    await call('GET', '/repos/acme/app/collaborators/mia/permission', token);
    await call('GET', '/repos/acme/app/collaborators/nobody/permission', token);
    const issue = await call('POST', '/repos/acme/app/issues', token, { title: 'T', body: 'B' });
    const n = issue.json.number;
    await call('GET', `/repos/acme/app/issues/${n}`, token);
    const comment = await call('POST', `/repos/acme/app/issues/${n}/comments`, token, { body: 'hi' });
    await call('GET', `/repos/acme/app/issues/${n}/comments`, token);
    await call('GET', `/repos/acme/app/issues/comments/${comment.json.id}`, token);
    await call('PATCH', `/repos/acme/app/issues/comments/${comment.json.id}`, token, { body: 'edited' });
    await call('POST', `/repos/acme/app/issues/${n}/reactions`, token, { content: 'eyes' });
    await call('POST', `/repos/acme/app/issues/${n}/reactions`, token, { content: 'eyes' });
    await call('POST', `/repos/acme/app/issues/comments/${comment.json.id}/reactions`, token, {
      content: 'eyes',
    });
    const pr = await call('POST', '/repos/acme/app/pulls', token, {
      title: 'P',
      head: 'main',
      base: 'main',
      body: 'b',
    });
    expect(pr.status).toBe(201);
    await call('GET', '/repos/acme/app/pulls?head=acme:main&state=open', token);
    await call('GET', `/repos/acme/app/pulls/${pr.json.number}`, token);
    const rc = gh.addReviewComment('acme', 'app', pr.json.number, { body: '@devbot x', user: 'mia' });
    await call('POST', `/repos/acme/app/pulls/${pr.json.number}/comments/${rc.id}/replies`, token, {
      body: 'ok',
    });
    await call('POST', `/repos/acme/app/pulls/comments/${rc.id}/reactions`, token, { content: 'eyes' });
    const run = await call('POST', '/repos/acme/app/check-runs', token, {
      name: 'devbot',
      head_sha: pr.json.head.sha,
      status: 'in_progress',
      output: { title: 'working', summary: 's' },
    });
    await call('PATCH', `/repos/acme/app/check-runs/${run.json.id}`, token, {
      conclusion: 'success',
      output: { title: 'done', summary: 'ok' },
    });

    const covered = new Set(gh.responses.filter((r) => r.status < 300).map((r) => `${r.method} ${r.route}`));
    expect([...covered].sort()).toEqual([...EXPECTED_ROUTES].sort());

    const errors: string[] = [];
    for (const r of gh.responses) {
      if (r.status >= 300) continue;
      const operation = spec.paths[r.route]?.[r.method.toLowerCase()];
      expect(operation, `${r.method} ${r.route} is a GitHub operation`).toBeDefined();
      const response = operation!.responses[String(r.status)];
      expect(response, `${r.method} ${r.route} documents status ${r.status}`).toBeDefined();
      const resolved = deref(response!);
      const schema = (resolved['content'] as Record<string, { schema: Schema }> | undefined)?.[
        'application/json'
      ]?.schema;
      expect(schema, `${r.method} ${r.route} ${r.status} has a JSON schema`).toBeDefined();
      validate(schema!, r.body, `${r.method} ${r.route} ${r.status}`, errors);
    }
    expect(errors).toEqual([]);
  });

  it('the checker itself catches a missing required property and a wrong type', () => {
    const errors: string[] = [];
    const schema = spec.components['schemas']!['issue-comment']!;
    validate(schema, { id: 'x', node_id: 'n' }, 'c', errors);
    expect(errors.some((e) => e.includes('c.user: required but missing'))).toBe(true);
    expect(errors.some((e) => e.includes('c.id: expected integer'))).toBe(true);
  });

  it('refuses calls without the right credentials', async () => {
    expect((await call('GET', '/repos/acme/app', 'token nope')).status).toBe(401);
    expect(
      (await call('POST', `/app/installations/${gh.installationId}/access_tokens`, 'token nope')).status,
    ).toBe(401);
  });
});
