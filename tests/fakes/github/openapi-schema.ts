/**
 * GitHub's own OpenAPI description (`@octokit/openapi`) as the fake GitHub's rulebook: the fake
 * refuses request bodies GitHub would refuse, and the tests check every response and webhook
 * payload against the documented shapes. A small JSON-schema checker is enough for that: $ref,
 * allOf/anyOf/oneOf, type (+nullable), enum, required, properties, items.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type Schema = Record<string, unknown>;

interface Operation {
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses: Record<string, Schema>;
}

export interface OpenApiSpec {
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, Schema>>;
  'x-webhooks': Record<string, Record<string, Operation>>;
}

let cached: OpenApiSpec | null = null;

/** The api.github.com description, read once per process (it is large: ~10 MB of JSON). */
export function openApiSpec(): OpenApiSpec {
  if (!cached) {
    const require = createRequire(import.meta.url);
    const path = join(
      dirname(require.resolve('@octokit/openapi/package.json')),
      'generated/api.github.com.json',
    );
    cached = JSON.parse(readFileSync(path, 'utf8')) as OpenApiSpec;
  }
  return cached;
}

export function deref(node: Schema, spec = openApiSpec()): Schema {
  let n = node;
  while (typeof n['$ref'] === 'string') {
    const [, , group, name] = (n['$ref'] as string).split('/');
    n = spec.components[group!]![name!]!;
  }
  return n;
}

export interface SchemaIssue {
  /** Property names and array indexes from the root value. */
  path: Array<string | number>;
  problem: 'missing' | 'type' | 'null' | 'enum' | 'no-match';
  expected?: string;
  value?: unknown;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

export function schemaIssues(
  schemaIn: Schema,
  value: unknown,
  spec = openApiSpec(),
  path: Array<string | number> = [],
): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const schema = deref(schemaIn, spec);
  if (Array.isArray(schema['allOf']))
    for (const s of schema['allOf'] as Schema[]) issues.push(...schemaIssues(s, value, spec, path));
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key] as Schema[] | undefined;
    if (!options) continue;
    if (value === null && schema['nullable']) continue;
    if (!options.some((s) => schemaIssues(s, value, spec, path).length === 0))
      issues.push({ path, problem: 'no-match', expected: key });
  }
  const declared = schema['type'];
  if (declared !== undefined) {
    const types = Array.isArray(declared) ? (declared as string[]) : [declared as string];
    const actual = typeOf(value);
    if (value === null) {
      if (schema['nullable'] !== true && !types.includes('null')) issues.push({ path, problem: 'null' });
      return issues;
    }
    const fits = types.includes(actual) || (actual === 'integer' && types.includes('number'));
    if (!fits) {
      issues.push({ path, problem: 'type', expected: types.join('|'), value });
      return issues;
    }
  }
  const allowed = schema['enum'] as unknown[] | undefined;
  if (Array.isArray(allowed) && value !== null && !allowed.includes(value))
    issues.push({ path, problem: 'enum', expected: JSON.stringify(allowed), value });
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const key of (schema['required'] as string[] | undefined) ?? [])
      if (!(key in obj)) issues.push({ path: [...path, key], problem: 'missing' });
    const props = (schema['properties'] as Record<string, Schema> | undefined) ?? {};
    for (const [key, sub] of Object.entries(props))
      if (key in obj && obj[key] !== undefined)
        issues.push(...schemaIssues(sub, obj[key], spec, [...path, key]));
  }
  if (Array.isArray(value) && schema['items'])
    value.forEach((item, i) => {
      issues.push(...schemaIssues(schema['items'] as Schema, item, spec, [...path, i]));
    });
  return issues;
}

/** One line per issue, for test failures: `label.a.b[0]: expected integer, got string`. */
export function describeIssue(issue: SchemaIssue, label: string): string {
  const where = label + issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
  switch (issue.problem) {
    case 'missing':
      return `${where}: required but missing`;
    case 'null':
      return `${where}: null is not allowed`;
    case 'type':
      return `${where}: expected ${issue.expected}, got ${typeOf(issue.value)}`;
    case 'enum':
      return `${where}: ${JSON.stringify(issue.value)} is not one of ${issue.expected}`;
    default:
      return `${where}: matches none of ${issue.expected}`;
  }
}

/**
 * The message GitHub sends with a 422 for a body that breaks the operation's schema, e.g.
 * `Invalid request.\n\n"state" wasn't supplied.` (its JSON-schema validator's wording).
 */
export function githubSchemaMessage(issue: SchemaIssue): string {
  const key = issue.path.at(-1);
  const where = `For 'properties/${String(key)}'`;
  switch (issue.problem) {
    case 'missing':
      return `Invalid request.\n\n"${String(key)}" wasn't supplied.`;
    case 'null':
      return `Invalid request.\n\n${where}, nil is not ${issue.expected ?? 'allowed'}.`;
    case 'type':
      return `Invalid request.\n\n${where}, ${JSON.stringify(issue.value)} is not a ${issue.expected}.`;
    case 'enum':
      return `Invalid request.\n\n${where}, ${JSON.stringify(issue.value)} is not one of ${issue.expected}.`;
    default:
      return `Invalid request.\n\nNo subschema in "${issue.expected}" matched.`;
  }
}

function jsonSchemaOf(holder: Schema | undefined, spec: OpenApiSpec): Schema | null {
  if (!holder) return null;
  const resolved = deref(holder, spec);
  const content = resolved['content'] as Record<string, { schema?: Schema }> | undefined;
  return content?.['application/json']?.schema ?? null;
}

export function operation(method: string, template: string, spec = openApiSpec()): Operation | null {
  return spec.paths[template]?.[method.toLowerCase()] ?? null;
}

/** The JSON schema of an operation's request body, or null when it takes none. */
export function requestBodySchema(method: string, template: string, spec = openApiSpec()): Schema | null {
  const op = operation(method, template, spec);
  return op?.requestBody ? jsonSchemaOf(op.requestBody as Schema, spec) : null;
}

/** undefined: the status is not documented; null: documented without a JSON body (204, 302). */
export function responseSchema(
  method: string,
  template: string,
  status: number,
  spec = openApiSpec(),
): Schema | null | undefined {
  const response = operation(method, template, spec)?.responses[String(status)];
  return response ? jsonSchemaOf(response, spec) : undefined;
}

/** Documented headers of a response (e.g. Location of a 302). */
export function responseHeaders(
  method: string,
  template: string,
  status: number,
  spec = openApiSpec(),
): string[] {
  const response = operation(method, template, spec)?.responses[String(status)];
  if (!response) return [];
  return Object.keys((deref(response, spec)['headers'] as Schema | undefined) ?? {});
}

/** The payload schema of a webhook event and action, e.g. ('check_suite', 'completed'). */
export function webhookSchema(
  event: string,
  action: string | undefined,
  spec = openApiSpec(),
): Schema | null {
  const key = [event, action].filter(Boolean).join('-').replaceAll('_', '-');
  const post = spec['x-webhooks'][key]?.['post'];
  return post?.requestBody ? jsonSchemaOf(post.requestBody as Schema, spec) : null;
}

export interface ResponseRecord {
  method: string;
  route: string;
  status: number;
  body: unknown;
  headers: Record<string, string>;
  outsideRestApi: boolean;
}

/**
 * What is wrong with a response the fake sent, measured against GitHub's description: an
 * operation GitHub lacks, a success status it does not document, a body off its schema, a
 * documented header (a redirect's Location) missing. Errors are checked against their documented
 * schema, or GitHub's `basic-error` when the operation documents none for that status.
 */
export function responseProblems(r: ResponseRecord, spec = openApiSpec()): string[] {
  if (r.outsideRestApi) return [];
  const label = `${r.method} ${r.route} ${r.status}`;
  if (!operation(r.method, r.route, spec)) return [`${r.method} ${r.route} is not a GitHub operation`];
  const schema = responseSchema(r.method, r.route, r.status, spec);
  if (schema === undefined) {
    if (r.status < 400) return [`${label} is not a documented status`];
    const basic = spec.components['schemas']!['basic-error']!;
    return schemaIssues({ ...basic, required: ['message'] }, r.body, spec).map((i) =>
      describeIssue(i, label),
    );
  }
  if (schema === null) {
    const problems: string[] = [];
    if (r.body !== undefined && r.body !== '') problems.push(`${label} documents no body but has one`);
    for (const header of responseHeaders(r.method, r.route, r.status, spec))
      if (!(header.toLowerCase() in r.headers)) problems.push(`${label} lacks its ${header} header`);
    return problems;
  }
  return schemaIssues(schema, r.body, spec).map((i) => describeIssue(i, label));
}
