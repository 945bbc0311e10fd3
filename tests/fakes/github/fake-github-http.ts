/**
 * The fake GitHub's routing vocabulary: a route is GitHub's OpenAPI path template, who may call
 * it (and with which repository permission), and a handler from request context to reply. Error
 * replies carry GitHub's error shapes (`basic-error`, `validation-error`,
 * `validation-error-simple`) so clients see the same `message`/`errors` they would on GitHub.
 */
import type { IncomingMessage } from 'node:http';
import type { FakeRepoState } from './fake-github.js';
import { type Auth, githubError, type RepoNeeds } from './fake-github-auth.js';

export interface Ctx {
  req: IncomingMessage;
  url: URL;
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
  /** The raw body, for form posts (the App manifest form). */
  rawBody: string;
  auth: Auth;
  /** The repository of a repository route, already found and authorized. */
  repo: FakeRepoState | null;
}

export interface Reply {
  status: number;
  /** JSON body; `text` takes precedence for non-JSON answers (logs, HTML redirects). */
  body?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

export type RouteHandler = (ctx: Ctx) => Promise<Reply> | Reply;

export type RouteAccess =
  /** Anyone (GitHub's own web pages, signed download links, manifest conversions). */
  | { kind: 'public' }
  /** An App's JWT. */
  | { kind: 'app' }
  /** A personal token, as its user (`GET /user`). */
  | { kind: 'user' }
  /** Any token (GraphQL checks repository access itself). */
  | { kind: 'token' }
  /** A repository route: `{owner}/{repo}` must exist and the caller must hold the permission. */
  | ({ kind: 'repo' } & RepoNeeds);

export interface RouteDef {
  method: string;
  template: string;
  access: RouteAccess;
  handler: RouteHandler;
  /** Left out of the OpenAPI checks: not part of GitHub's REST API (web pages, downloads, GraphQL). */
  outsideRestApi?: boolean;
  /** Bodies GitHub takes although its description's schema would not (checked by the handler). */
  acceptsOffSchema?: (body: Record<string, unknown>) => boolean;
}

export function route(
  method: string,
  template: string,
  access: RouteAccess,
  handler: RouteHandler,
  options: Pick<RouteDef, 'outsideRestApi' | 'acceptsOffSchema'> = {},
): RouteDef {
  return { method, template, access, handler, ...options };
}

export const read = (permission: RepoNeeds['permission'], extra: Partial<RepoNeeds> = {}): RouteAccess => ({
  kind: 'repo',
  permission,
  access: 'read',
  ...extra,
});
export const write = (permission: RepoNeeds['permission'], extra: Partial<RepoNeeds> = {}): RouteAccess => ({
  kind: 'repo',
  permission,
  access: 'write',
  ...extra,
});

export const notFound: Reply = githubError(404, 'Not Found');

export function forbidden(message: string): Reply {
  return githubError(403, message);
}

/** 422 `validation-error`: `errors` are objects naming the resource and field. */
export function validationFailed(
  resource: string,
  message: string,
  extra: { field?: string; code?: string } = {},
): Reply {
  return {
    status: 422,
    body: {
      message: 'Validation Failed',
      errors: [
        { resource, code: extra.code ?? 'custom', message, ...(extra.field ? { field: extra.field } : {}) },
      ],
      documentation_url: 'https://docs.github.com/rest',
      status: '422',
    },
  };
}

/** 422 `validation-error-simple`: GitHub's shape where `errors` are plain strings (reviews). */
export function unprocessable(errors: string[]): Reply {
  return {
    status: 422,
    body: {
      message: 'Unprocessable Entity',
      errors,
      documentation_url: 'https://docs.github.com/rest',
      status: '422',
    },
  };
}

/** 422 with only a message (e.g. "No commit found for SHA: ..."). */
export function unprocessableMessage(message: string): Reply {
  return githubError(422, message);
}

export function str(body: Record<string, unknown>, key: string): string | null {
  const v = body[key];
  return typeof v === 'string' ? v : null;
}
