import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  autoInputSchema,
  type NewTask,
  TASK_INPUT_SCHEMAS,
  type Task,
  type TaskIngress,
  type TaskQueue,
  type TaskStore,
} from '../../src/core/index.js';
import { createApiApp } from '../../src/gateway/api-app.js';
import { TASK_EVENT_TYPES, taskSchema } from '../../src/gateway/api-schemas.js';
import { createMemoriesRoutes } from '../../src/gateway/memories-route.js';
import { openApiDocument } from '../../src/gateway/openapi-document.js';
import type { TokenAdmin } from '../../src/gateway/token-admin.js';
import { TokenIssuer } from '../../src/gateway/token-issuer.js';
import { createTokenRoutes } from '../../src/gateway/token-routes.js';
import { createLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { makeTask } from '../fakes/llm/recording-context.js';

type Json = Record<string, unknown>;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Resolves a local `#/a/b` reference in `doc`, or undefined. */
function resolve(doc: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in node)) return undefined;
    node = (node as Json)[key];
  }
  return node;
}

/**
 * The structural rules of OpenAPI 3.1 that a generator can get wrong (no validator package is
 * installed, and none is added for this): version, info, paths and their templates against the
 * path parameters, operations and their responses, unique operation ids, parameters, security
 * schemes, and every `$ref` and discriminator mapping resolving inside the document.
 */
function openApiProblems(doc: Json): string[] {
  const problems: string[] = [];
  const info = doc['info'] as Json | undefined;
  if (!/^3\.1\.\d+$/.test(String(doc['openapi']))) problems.push('openapi is not 3.1.x');
  if (typeof info?.['title'] !== 'string' || typeof info?.['version'] !== 'string')
    problems.push('info needs title and version');
  const components = (doc['components'] ?? {}) as Json;
  const schemes = (components['securitySchemes'] ?? {}) as Json;
  const checkSecurity = (where: string, security: unknown) => {
    if (security === undefined) return;
    if (!Array.isArray(security)) {
      problems.push(`${where}: security is not a list`);
      return;
    }
    for (const requirement of security as Json[])
      for (const name of Object.keys(requirement))
        if (!(name in schemes)) problems.push(`${where}: unknown security scheme ${name}`);
  };
  checkSecurity('root', doc['security']);
  const ids = new Set<string>();
  const paths = doc['paths'] as Record<string, Json> | undefined;
  if (!paths || typeof paths !== 'object') problems.push('no paths');
  for (const [path, item] of Object.entries(paths ?? {})) {
    if (!path.startsWith('/')) problems.push(`${path}: does not start with /`);
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const [method, op] of Object.entries(item)) {
      const where = `${method.toUpperCase()} ${path}`;
      if (!METHODS.includes(method)) {
        problems.push(`${where}: not an HTTP method`);
        continue;
      }
      const operation = op as Json;
      const id = operation['operationId'];
      if (typeof id === 'string') {
        if (ids.has(id)) problems.push(`${where}: operationId ${id} repeats`);
        ids.add(id);
      }
      const params = ((operation['parameters'] ?? []) as Json[]).map((p) =>
        '$ref' in p ? (resolve(doc, String(p['$ref'])) as Json) : p,
      );
      for (const p of params) {
        if (
          typeof p?.['name'] !== 'string' ||
          !['query', 'header', 'path', 'cookie'].includes(String(p['in']))
        )
          problems.push(`${where}: a parameter needs a name and in`);
        if (!('schema' in p) && !('content' in p))
          problems.push(`${where}: parameter ${p['name']} has no schema`);
        if (p['in'] === 'path' && p['required'] !== true)
          problems.push(`${where}: path parameter not required`);
        if (p['in'] === 'path' && !templated.includes(String(p['name'])))
          problems.push(`${where}: path parameter ${p['name']} is not in the path`);
      }
      for (const name of templated)
        if (!params.some((p) => p['in'] === 'path' && p['name'] === name))
          problems.push(`${where}: {${name}} has no path parameter`);
      const responses = operation['responses'] as Record<string, Json> | undefined;
      if (!responses || Object.keys(responses).length === 0) problems.push(`${where}: no responses`);
      for (const [status, response] of Object.entries(responses ?? {})) {
        if (!/^([1-5](\d\d|XX)|default)$/.test(status)) problems.push(`${where}: response key ${status}`);
        const r =
          '$ref' in response ? (resolve(doc, String(response['$ref'])) as Json | undefined) : response;
        if (typeof r?.['description'] !== 'string') problems.push(`${where} ${status}: no description`);
      }
      const body = operation['requestBody'] as Json | undefined;
      if (body && typeof body['content'] !== 'object') problems.push(`${where}: requestBody without content`);
      checkSecurity(where, operation['security']);
    }
  }
  // Every reference resolves; discriminator mappings too.
  const walk = (node: unknown, at: string) => {
    if (Array.isArray(node)) {
      node.forEach((n, i) => {
        walk(n, `${at}/${i}`);
      });
      return;
    }
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && (typeof value !== 'string' || resolve(doc, value) === undefined))
        problems.push(`${at}: $ref ${String(value)} does not resolve`);
      if (key === 'discriminator')
        for (const target of Object.values(((value as Json)['mapping'] ?? {}) as Json))
          if (resolve(doc, String(target)) === undefined)
            problems.push(`${at}: mapping ${target} does not resolve`);
      walk(value, `${at}/${key}`);
    }
  };
  walk(doc, '#');
  return problems;
}

/** The task the ingress would make of `input`, queued. */
const fakeTask = (input: NewTask): Task =>
  makeTask({
    id: randomUUID(),
    source: input.source,
    origin: input.origin ?? {},
    requester: input.requester,
    repo: input.repo ?? null,
    kind: input.kind,
    prompt: input.prompt,
    input: input.input ?? {},
    status: 'queued',
    idempotencyKey: input.idempotencyKey ?? null,
    attempts: 0,
    startedAt: null,
  });

/** The API app as start-devbot builds it on a gateway (tokens and memories mounted). */
function gatewayApp() {
  const tokens = new TokenIssuer(randomBytes(32).toString('hex'));
  const submitted: NewTask[] = [];
  const ingress = {
    submit: async (input: NewTask) => {
      submitted.push(input);
      return { task: fakeTask(input), created: true };
    },
  } as unknown as TaskIngress;
  const app = createApiApp({
    store: {} as TaskStore,
    queue: {} as TaskQueue,
    ingress,
    tokens,
    metrics: new Metrics(),
    logger: createLogger({ level: 'silent' }),
    rateLimitPerMinute: 100,
    bodyLimitBytes: 1 << 20,
    // As start-devbot's handler table answers: each kind's schema, auto the union of them.
    inputSchema: (kind) =>
      kind === 'auto' ? autoInputSchema(Object.values(TASK_INPUT_SCHEMAS)) : TASK_INPUT_SCHEMAS[kind],
    extraRoutes: [
      { path: '/tokens', app: createTokenRoutes({ admin: {} as TokenAdmin, bodyLimitBytes: 1 << 20 }) },
      { path: '/memories', app: createMemoriesRoutes({ memory: null }) },
    ],
  });
  return { app, tokens, submitted };
}

describe('the OpenAPI document', () => {
  const doc = openApiDocument();

  it('is structurally valid OpenAPI 3.1', () => {
    expect(openApiProblems(doc)).toEqual([]);
  });

  it('the structural check catches what it claims to', () => {
    const broken = structuredClone(doc) as { openapi: string; paths: Record<string, Record<string, Json>> };
    broken.openapi = '3.0.3';
    const get = broken.paths['/tasks/{id}']?.['get'] as Json;
    get['parameters'] = [];
    (broken.paths['/tasks'] as Record<string, Json>)['post'] = {
      operationId: 'listTasks',
      responses: { '202': { $ref: '#/components/responses/Nope' } },
    };
    const problems = openApiProblems(broken as unknown as Json).join('\n');
    expect(problems).toMatch(/openapi is not 3\.1/);
    expect(problems).toMatch(/GET \/tasks\/\{id\}: \{id\} has no path parameter/);
    expect(problems).toMatch(/operationId listTasks repeats/);
    expect(problems).toMatch(/Nope does not resolve/);
  });

  it('describes every route the app registers, and no route it does not', () => {
    const { app } = gatewayApp();
    const registered = new Set(
      app.routes
        // Middleware and catch-alls are registered as ALL; the dashboard's HTML pages are not API.
        .filter((r) => r.method !== 'ALL' && !r.path.startsWith('/ui'))
        .map((r) => `${r.method} ${r.path.replace(/\/$/, '').replace(/:(\w+)/g, '{$1}')}`),
    );
    expect(registered.size).toBeGreaterThan(15);
    const paths = doc['paths'] as Record<string, Json>;
    const documented = new Set(
      Object.entries(paths).flatMap(([path, item]) =>
        Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`),
      ),
    );
    expect([...registered].filter((r) => !documented.has(r))).toEqual([]);
    // The WebSocket stream is served by the HTTP server's upgrade handler, not by the app.
    expect([...documented].filter((d) => !registered.has(d))).toEqual(['GET /tasks/{id}/stream']);
  });

  it('has the task event vocabulary as components, one payload per event type', () => {
    const schemas = (doc['components'] as Json)['schemas'] as Record<string, Json>;
    expect(TASK_EVENT_TYPES).toContain('task.created');
    expect(TASK_EVENT_TYPES.length).toBeGreaterThanOrEqual(20);
    for (const type of TASK_EVENT_TYPES) {
      const payload = schemas[`TaskEventData.${type}`];
      expect(payload?.['type'] === 'object' || Array.isArray(payload?.['oneOf']), type).toBe(true);
      expect(schemas[`TaskEvent.${type}`]?.['properties']).toMatchObject({ type: { const: type } });
    }
    expect(schemas['TaskEvent']?.['oneOf']).toHaveLength(TASK_EVENT_TYPES.length);
    // A payload's fields come from the zod schema: optional ones are not required.
    expect(schemas['TaskEventData.command.finished']).toMatchObject({
      required: ['command', 'exitCode', 'durationMs'],
    });
  });

  it("documents each kind's input from the handlers' schemas, only for kinds the deployment runs", () => {
    const schemas = (doc['components'] as Json)['schemas'] as Record<string, Json>;
    expect(schemas['TaskInput.shell']).toMatchObject({
      additionalProperties: false,
      properties: { command: { type: 'string' } },
    });
    expect(Object.keys(schemas['TaskInput.followup']?.['properties'] as Json)).toContain('prNumber');
    expect(Object.keys(schemas['TaskInput.auto']?.['properties'] as Json)).toEqual(
      expect.arrayContaining(['command', 'issueNumber', 'prNumber', 'context']),
    );
    const shellOnly = openApiDocument({
      inputSchema: (kind) => (kind === 'shell' ? TASK_INPUT_SCHEMAS.shell : null),
    });
    const only = (shellOnly['components'] as Json)['schemas'] as Record<string, Json>;
    expect(Object.keys(only).filter((k) => k.startsWith('TaskInput.'))).toEqual(['TaskInput.shell']);
    expect(openApiProblems(shellOnly)).toEqual([]);
  });

  it('is served without a token at GET /openapi.json', async () => {
    const { app } = gatewayApp();
    const res = await app.request('/openapi.json');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(doc)));
  });

  it("POST /tasks with the spec's example is accepted, and the answer fits the Task schema", async () => {
    const { app, tokens, submitted } = gatewayApp();
    const served = (await (await app.request('/openapi.json')).json()) as Json;
    const createTask = ((served['components'] as Json)['schemas'] as Record<string, Json>)['CreateTask'];
    const example = (createTask?.['examples'] as Json[] | undefined)?.[0];
    expect(example).toBeDefined();
    const res = await app.request('/tasks', {
      method: 'POST',
      headers: { authorization: `Bearer ${await tokens.sign('alice')}`, 'content-type': 'application/json' },
      body: JSON.stringify(example),
    });
    expect(res.status, await res.clone().text()).toBe(202);
    expect(taskSchema.safeParse(await res.json()).error).toBeUndefined();
    expect(submitted[0]).toMatchObject({ kind: example?.['kind'], requester: 'alice' });
    // The documented body refuses what the route refuses: unknown keys.
    expect(createTask?.['additionalProperties']).toBe(false);
  });
});
