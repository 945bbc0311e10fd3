import { z } from 'zod';
import {
  autoInputSchema,
  INTERNAL_INPUT_KEYS,
  TASK_INPUT_SCHEMAS,
  TASK_KINDS,
  type TaskInputSchema,
  type TaskKind,
} from '../core/index.js';
import {
  errorSchema,
  issuedTokenSchema,
  memorySchema,
  newTokenSchema,
  pullRequestSchema,
  TASK_EVENT_TYPES,
  taskEventPayloads,
  taskSchema,
} from './api-schemas.js';
import { forgetMemoriesQuery, memoriesQuery } from './memories-route.js';
import { allowBody, createTaskBody, listQuery, reviseBody } from './task-routes.js';
import { issueTokenBody } from './token-routes.js';

type Json = Record<string, unknown>;

/** A JSON Schema (2020-12, OpenAPI 3.1's dialect) of a zod schema, without its `$schema`. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  });
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** Where the input a kind takes comes from: the handlers' schemas (the route's `inputSchema`). */
export type InputSchemaOf = (kind: TaskKind) => TaskInputSchema | null;

/** Without a deployment's handler table: every kind's documented input (core/task-input-schemas). */
const documentedInputs: InputSchemaOf = (kind) =>
  kind === 'auto' ? autoInputSchema(Object.values(TASK_INPUT_SCHEMAS)) : TASK_INPUT_SCHEMAS[kind];

/** POST /tasks's body as callers send it: the route's schema, `input` by the task's kind. */
function createTaskSchema(kinds: readonly TaskKind[]): Json {
  const schema = jsonSchema(createTaskBody, 'input') as { properties: Json; required?: string[] };
  // Refused with 403 (devbot sets them): accepted by the schema only to name them in the error.
  for (const key of ['source', 'origin', 'requester']) delete schema.properties[key];
  schema.properties['input'] = {
    description: `The keys the task's kind takes: TaskInput.<kind> (auto: those of every kind, as the router may choose any); other keys are refused, and so are the ones devbot sets itself (${Object.keys(INTERNAL_INPUT_KEYS).join(', ')}).`,
    anyOf: kinds.map((kind) => ref(`TaskInput.${kind}`)),
  };
  return {
    ...schema,
    description:
      'Give a prompt (what to do) or, for a shell task, a command. source, origin and requester are refused (devbot sets them).',
    examples: [CREATE_TASK_EXAMPLE],
  };
}

/** The example of POST /tasks (tests send it and expect 202). */
export const CREATE_TASK_EXAMPLE = { kind: 'shell', command: 'ls -la', idempotencyKey: 'deploy-42' };

/** Query parameters from a zod object schema. */
function queryParameters(schema: z.ZodObject): Json[] {
  const s = jsonSchema(schema, 'input') as { properties: Record<string, Json>; required?: string[] };
  return Object.entries(s.properties).map(([name, prop]) => ({
    name,
    in: 'query',
    required: s.required?.includes(name) ?? false,
    schema: prop,
  }));
}

const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const cidParam = { name: 'cid', in: 'path', required: true, schema: { type: 'string' } };
const json = (schema: Json) => ({ 'application/json': { schema } });
const errorResponse = (description: string) => ({
  description,
  content: json(ref('Error')),
});

const RATE_HEADERS = {
  'RateLimit-Limit': { $ref: '#/components/headers/RateLimit-Limit' },
  'RateLimit-Remaining': { $ref: '#/components/headers/RateLimit-Remaining' },
  'RateLimit-Reset': { $ref: '#/components/headers/RateLimit-Reset' },
  'RateLimit-Policy': { $ref: '#/components/headers/RateLimit-Policy' },
};

/** The answers every authenticated operation may give besides its own. */
function authenticated(responses: Record<string, Json>, scope: string): Json {
  const withHeaders = Object.fromEntries(
    Object.entries(responses).map(([status, r]) => [
      status,
      status.startsWith('2') ? { ...r, headers: { ...(r['headers'] as Json), ...RATE_HEADERS } } : r,
    ]),
  );
  return {
    security: [{ bearer: [] }],
    'x-scope': scope,
    responses: {
      ...withHeaders,
      '401': { $ref: '#/components/responses/Unauthorized' },
      '403': { $ref: '#/components/responses/Forbidden' },
      '429': { $ref: '#/components/responses/RateLimited' },
    },
  };
}

const taskAnswer = (description: string) => ({ description, content: json(ref('Task')) });

/**
 * devbot's API as an OpenAPI 3.1 document: request bodies and query parameters converted from the
 * zod schemas the routes validate with (`z.toJSONSchema`), answers and the task event vocabulary
 * from api-schemas.ts. Served at `GET /openapi.json`; the test compares its paths with the
 * routes the app registers.
 */
export function openApiDocument(
  options: { serverUrl?: string | undefined; inputSchema?: InputSchemaOf | undefined } = {},
): Json {
  const inputOf = options.inputSchema ?? documentedInputs;
  // The kinds this deployment runs (a kind with no handler is refused with 422).
  const inputs = TASK_KINDS.flatMap((kind) => {
    const schema = inputOf(kind);
    return schema ? [[kind, schema] as const] : [];
  });
  const eventNames = TASK_EVENT_TYPES.map((type) => `TaskEvent.${type}`);
  const schemas: Json = {
    Task: jsonSchema(taskSchema, 'output'),
    TaskDetail: {
      allOf: [
        ref('Task'),
        {
          type: 'object',
          properties: {
            shareUrl: { type: 'string', description: "A read-only link to the task's page." },
            pullRequests: { type: 'array', items: ref('PullRequest') },
            events: { type: 'array', items: ref('TaskEvent') },
          },
          required: ['pullRequests', 'events'],
        },
      ],
    },
    TaskList: {
      type: 'object',
      properties: {
        tasks: { type: 'array', items: ref('Task') },
        next: {
          type: ['string', 'null'],
          description: 'Pass as ?before= for the next page; null on the last page.',
        },
      },
      required: ['tasks', 'next'],
    },
    CreateTask: createTaskSchema(inputs.map(([kind]) => kind)),
    ...Object.fromEntries(inputs.map(([kind, schema]) => [`TaskInput.${kind}`, jsonSchema(schema, 'input')])),
    Revise: jsonSchema(reviseBody, 'input'),
    AllowCommand: jsonSchema(allowBody, 'input'),
    PullRequest: jsonSchema(pullRequestSchema, 'output'),
    Error: jsonSchema(errorSchema, 'output'),
    Status: {
      type: 'object',
      properties: { status: { type: 'string', enum: ['ok', 'unavailable'] } },
      required: ['status'],
    },
    IssueToken: jsonSchema(issueTokenBody, 'input'),
    IssuedToken: jsonSchema(issuedTokenSchema, 'output'),
    NewToken: jsonSchema(newTokenSchema, 'output'),
    Memory: jsonSchema(memorySchema, 'output'),
    TaskEventType: { type: 'string', enum: TASK_EVENT_TYPES },
    TaskEvent: {
      description: "One event of a task's progress; `type` says which payload `data` is.",
      oneOf: eventNames.map(ref),
      discriminator: {
        propertyName: 'type',
        mapping: Object.fromEntries(
          TASK_EVENT_TYPES.map((type) => [type, `#/components/schemas/TaskEvent.${type}`]),
        ),
      },
    },
    StreamedTaskEvent: {
      description: 'What the SSE `data:` lines and the WebSocket messages carry: an event with its task id.',
      allOf: [
        ref('TaskEvent'),
        { type: 'object', properties: { taskId: { type: 'string' } }, required: ['taskId'] },
      ],
    },
    ...Object.fromEntries(
      TASK_EVENT_TYPES.flatMap((type) => [
        [
          `TaskEvent.${type}`,
          {
            type: 'object',
            properties: {
              seq: { type: 'integer', description: 'Per task, from 1, no gaps' },
              at: { type: 'string', format: 'date-time' },
              type: { const: type },
              data: ref(`TaskEventData.${type}`),
            },
            required: ['seq', 'at', 'type', 'data'],
          },
        ],
        [`TaskEventData.${type}`, jsonSchema(taskEventPayloads[type], 'output')],
      ]),
    ),
  };
  const header = (description: string) => ({ description, schema: { type: 'integer', minimum: 0 } });

  return {
    openapi: '3.1.0',
    info: {
      title: 'devbot API',
      // The API's version (info.version is the document's, not devbot's release): one so far.
      version: '1.0.0',
      description:
        'Tasks (create, follow, cancel, approve), API tokens and memories. Not described here: the webhooks, /setup, previews and the dashboard (/ui), which are not an API. Authenticate with `Authorization: Bearer <token>` (`devbot token --user NAME`). Every authenticated answer carries the IETF draft RateLimit headers; a 429 adds Retry-After. Errors are JSON {error, message}.',
    },
    servers: [{ url: options.serverUrl || '/' }],
    tags: [{ name: 'tasks' }, { name: 'tokens' }, { name: 'memories' }, { name: 'operations' }],
    paths: {
      '/healthz': {
        get: {
          tags: ['operations'],
          operationId: 'health',
          summary: 'The process is up',
          security: [],
          responses: { '200': { description: 'Up', content: json(ref('Status')) } },
        },
      },
      '/readyz': {
        get: {
          tags: ['operations'],
          operationId: 'ready',
          summary: 'The store and Redis answer (why not goes to the log)',
          security: [],
          responses: {
            '200': { description: 'Ready', content: json(ref('Status')) },
            '503': { description: 'Not ready', content: json(ref('Status')) },
          },
        },
      },
      '/metrics': {
        get: {
          tags: ['operations'],
          operationId: 'metrics',
          summary: 'Prometheus metrics',
          description: 'Open unless DEVBOT_METRICS_TOKEN is set; then that token as a bearer token.',
          security: [{}, { metricsToken: [] }],
          responses: {
            '200': {
              description: 'Text exposition format',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
            '401': errorResponse('DEVBOT_METRICS_TOKEN is set and was not sent'),
          },
        },
      },
      '/openapi.json': {
        get: {
          tags: ['operations'],
          operationId: 'openapi',
          summary: 'This document',
          description: 'Public: it describes the API, not any data.',
          security: [],
          responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } },
        },
      },
      '/tasks': {
        post: {
          tags: ['tasks'],
          operationId: 'createTask',
          summary: 'Create a task',
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              description:
                'The same key again (same caller) returns the same task with Idempotent-Replayed: true.',
              schema: { type: 'string', minLength: 1, maxLength: 200 },
            },
          ],
          requestBody: { required: true, content: json(ref('CreateTask')) },
          ...authenticated(
            {
              '202': taskAnswer('Accepted (or replayed)'),
              '400': errorResponse('Invalid body'),
              '413': errorResponse('Body over DEVBOT_BODY_LIMIT'),
              '422': errorResponse('A kind this deployment cannot run; says what to configure'),
            },
            'tasks:write',
          ),
        },
        get: {
          tags: ['tasks'],
          operationId: 'listTasks',
          summary: 'Your tasks, newest first (everyone’s for admins)',
          parameters: queryParameters(listQuery),
          ...authenticated(
            {
              '200': { description: 'A page of tasks', content: json(ref('TaskList')) },
              '400': errorResponse('Invalid query'),
            },
            'tasks:read',
          ),
        },
      },
      '/tasks/{id}': {
        get: {
          tags: ['tasks'],
          operationId: 'getTask',
          summary: 'A task with its events and pull requests',
          parameters: [idParam],
          ...authenticated(
            {
              '200': { description: 'The task', content: json(ref('TaskDetail')) },
              '404': errorResponse('No such task'),
            },
            'tasks:read',
          ),
        },
      },
      '/tasks/{id}/share': {
        delete: {
          tags: ['tasks'],
          operationId: 'revokeShareLinks',
          summary: "Revoke a task's share links (admins)",
          parameters: [idParam],
          ...authenticated(
            {
              '200': {
                description: 'How many links were revoked',
                content: json({
                  type: 'object',
                  properties: { revoked: { type: 'integer' } },
                  required: ['revoked'],
                }),
              },
              '404': errorResponse('No such task, or share links are off'),
            },
            'admin',
          ),
        },
      },
      '/tasks/{id}/cancel': {
        post: {
          tags: ['tasks'],
          operationId: 'cancelTask',
          summary: 'Cancel a queued, running or waiting task',
          parameters: [idParam],
          ...authenticated(
            {
              '202': taskAnswer('Cancelled'),
              '404': errorResponse('No such task'),
              '409': errorResponse('The task already ended'),
            },
            'tasks:write',
          ),
        },
      },
      '/tasks/{id}/approve': {
        post: {
          tags: ['tasks'],
          operationId: 'approveTask',
          summary: "Approve a waiting task's plan",
          parameters: [idParam],
          ...authenticated(
            {
              '202': taskAnswer('Back in the queue'),
              '404': errorResponse('No such task'),
              '409': errorResponse('The task is not waiting'),
              '503': errorResponse('Approvals are not served here'),
            },
            'tasks:write',
          ),
        },
      },
      '/tasks/{id}/revise': {
        post: {
          tags: ['tasks'],
          operationId: 'reviseTask',
          summary: 'Plan a waiting task again with a change',
          parameters: [idParam],
          requestBody: { required: true, content: json(ref('Revise')) },
          ...authenticated(
            {
              '202': taskAnswer('Back in the queue'),
              '400': errorResponse('No text'),
              '404': errorResponse('No such task'),
              '409': errorResponse('The task is not waiting'),
              '503': errorResponse('Approvals are not served here'),
            },
            'tasks:write',
          ),
        },
      },
      '/tasks/{id}/commands/{cid}/allow': {
        post: {
          tags: ['tasks'],
          operationId: 'allowCommand',
          summary:
            'Allow a risky command the running task waits on (`cid`: the id of its command.approval_requested event); `{"scope": "task"}` allows the same command for the rest of the task',
          parameters: [idParam, cidParam],
          requestBody: { required: false, content: json(ref('AllowCommand')) },
          ...authenticated(
            {
              '202': taskAnswer('Decided: the command runs'),
              '400': errorResponse('A bad scope'),
              '404': errorResponse('No such task, or no such command waiting'),
              '409': errorResponse('The task is not running, or the request is from an earlier attempt'),
              '503': errorResponse('Approvals are not served here'),
            },
            'tasks:write',
          ),
        },
      },
      '/tasks/{id}/commands/{cid}/deny': {
        post: {
          tags: ['tasks'],
          operationId: 'denyCommand',
          summary: 'Deny a risky command the running task waits on: the model is told, and the task goes on',
          parameters: [idParam, cidParam],
          ...authenticated(
            {
              '202': taskAnswer('Decided: the command does not run'),
              '404': errorResponse('No such task, or no such command waiting'),
              '409': errorResponse('The task is not running, or the request is from an earlier attempt'),
              '503': errorResponse('Approvals are not served here'),
            },
            'tasks:write',
          ),
        },
      },
      '/tasks/{id}/events': {
        get: {
          tags: ['tasks'],
          operationId: 'followTaskEvents',
          summary: "A task's events as Server-Sent Events (`curl -N`)",
          description:
            'Stored events after the cursor, then live ones; the stream ends with the task. Each message: `id:` the event seq, `event:` its type, `data:` a StreamedTaskEvent as JSON.',
          parameters: [
            idParam,
            {
              name: 'Last-Event-ID',
              in: 'header',
              required: false,
              description: 'Resume after this seq',
              schema: { type: 'string', pattern: '^\\d{1,9}$' },
            },
            {
              name: 'after',
              in: 'query',
              required: false,
              description: 'Resume after this seq (when the header is absent)',
              schema: { type: 'string', pattern: '^\\d{1,9}$' },
            },
          ],
          ...authenticated(
            {
              '200': {
                description: 'An event stream',
                content: {
                  'text/event-stream': {
                    schema: { type: 'string' },
                    'x-data-schema': ref('StreamedTaskEvent'),
                  },
                },
              },
              '400': errorResponse('Bad cursor'),
              '404': errorResponse('No such task'),
            },
            'tasks:read',
          ),
        },
      },
      '/tasks/{id}/stream': {
        get: {
          tags: ['tasks'],
          operationId: 'streamTaskEvents',
          summary: "A task's events over a WebSocket",
          description:
            'Upgrade to a WebSocket: each message is a StreamedTaskEvent as JSON; closes with 1000 "task ended". Browsers, which cannot set headers, pass ?token=.',
          parameters: [
            idParam,
            {
              name: 'after',
              in: 'query',
              required: false,
              schema: { type: 'string', pattern: '^\\d{1,9}$' },
            },
            { name: 'token', in: 'query', required: false, schema: { type: 'string' } },
          ],
          security: [{ bearer: [] }],
          'x-scope': 'tasks:read',
          responses: {
            '101': {
              description: 'Switching to the WebSocket protocol',
              'x-message-schema': ref('StreamedTaskEvent'),
            },
            '401': { $ref: '#/components/responses/Unauthorized' },
            '403': { $ref: '#/components/responses/Forbidden' },
            '404': errorResponse('No such task'),
            '429': errorResponse('Too many streams open for this user'),
          },
        },
      },
      '/tokens': {
        get: {
          tags: ['tokens'],
          operationId: 'listTokens',
          summary: 'Issued tokens (never the tokens themselves)',
          ...authenticated(
            {
              '200': {
                description: 'Tokens',
                content: json({
                  type: 'object',
                  properties: { tokens: { type: 'array', items: ref('IssuedToken') } },
                  required: ['tokens'],
                }),
              },
            },
            'admin',
          ),
        },
        post: {
          tags: ['tokens'],
          operationId: 'issueToken',
          summary: 'Issue a token',
          requestBody: { required: true, content: json(ref('IssueToken')) },
          ...authenticated(
            {
              '201': { description: 'Issued', content: json(ref('NewToken')) },
              '400': errorResponse('Invalid body'),
            },
            'admin',
          ),
        },
      },
      '/tokens/{id}': {
        delete: {
          tags: ['tokens'],
          operationId: 'revokeToken',
          summary: 'Revoke a token (at once here, within seconds on other processes)',
          parameters: [idParam],
          ...authenticated(
            {
              '200': {
                description: 'Revoked',
                content: json({
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    revoked: { const: true },
                    already: { type: 'boolean' },
                  },
                  required: ['id', 'revoked', 'already'],
                }),
              },
              '400': errorResponse('Not a token id'),
            },
            'admin',
          ),
        },
      },
      '/memories': {
        get: {
          tags: ['memories'],
          operationId: 'listMemories',
          summary: 'Memories: the most similar to ?q=, else the newest (admins)',
          parameters: queryParameters(memoriesQuery),
          ...authenticated(
            {
              '200': {
                description: 'Memories',
                content: json({
                  type: 'object',
                  properties: { memories: { type: 'array', items: ref('Memory') } },
                  required: ['memories'],
                }),
              },
              '400': errorResponse('Invalid query'),
              '503': errorResponse('Memory is disabled'),
            },
            'admin',
          ),
        },
        delete: {
          tags: ['memories'],
          operationId: 'forgetMemories',
          summary: 'Forget memories by id, repository (and kind) or task (admins)',
          parameters: queryParameters(forgetMemoriesQuery),
          ...authenticated(
            {
              '200': {
                description: 'How many were forgotten',
                content: json({
                  type: 'object',
                  properties: { forgotten: { type: 'integer' } },
                  required: ['forgotten'],
                }),
              },
              '400': errorResponse('Invalid query, or none of id, repo, task'),
              '503': errorResponse('Memory is disabled'),
            },
            'admin',
          ),
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: '`devbot token --user NAME`',
        },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'DEVBOT_METRICS_TOKEN' },
      },
      headers: {
        'RateLimit-Limit': header('Requests allowed per window (DEVBOT_RATE_LIMIT)'),
        'RateLimit-Remaining': header('Requests left in this window'),
        'RateLimit-Reset': header('Seconds until the window resets'),
        'RateLimit-Policy': {
          description: 'The quota and its window: `<limit>;w=60`',
          schema: { type: 'string' },
        },
        'Retry-After': header('Seconds to wait before trying again'),
      },
      responses: {
        Unauthorized: errorResponse('No token, or not a valid one'),
        Forbidden: errorResponse("Missing scope, or someone else's task"),
        RateLimited: {
          description: 'Over DEVBOT_RATE_LIMIT requests a minute',
          headers: { ...RATE_HEADERS, 'Retry-After': { $ref: '#/components/headers/Retry-After' } },
          content: json(ref('Error')),
        },
      },
      schemas,
    },
  };
}
