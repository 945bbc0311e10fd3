/**
 * Repository webhooks on the fake GitHub: what devbot registers in personal-token mode, where no
 * App receives events. Only repository admins (and tokens with a hook scope or the "Webhooks"
 * permission) reach them. Like GitHub, the fake pings a new hook at once and signs every
 * delivery with the hook's secret; repository hooks get payloads without `installation`.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { FakeGithub, FakeRepoState } from './fake-github.js';
import { type HookModel, hookJson } from './fake-github-ci-models.js';
import {
  type Ctx,
  notFound,
  type RouteDef,
  read,
  route,
  validationFailed,
  write,
} from './fake-github-http.js';
import { NOW } from './fake-github-models.js';
import { webhookEventNames } from './webhook-payloads.js';

export interface HookDelivery {
  hookId: number;
  event: string;
  deliveryId: string;
  /** The receiver's HTTP status, or null when it could not be reached. */
  status: number | null;
  error: string | null;
}

const ZEN = 'Design for failure.';

export async function sendToRepoHooks(
  gh: FakeGithub,
  r: FakeRepoState,
  delivery: { name: string; payload: Record<string, unknown> },
  only?: HookModel,
): Promise<HookDelivery[]> {
  const hooks = only
    ? [only]
    : r.hooks.filter((h) => h.active && (h.events.includes('*') || h.events.includes(delivery.name)));
  const results: HookDelivery[] = [];
  for (const hook of hooks) {
    const payload = { ...delivery.payload };
    delete payload['installation'];
    const json = JSON.stringify(payload);
    const body = hook.contentType === 'form' ? new URLSearchParams({ payload: json }).toString() : json;
    const deliveryId = randomUUID();
    const headers: Record<string, string> = {
      'content-type': hook.contentType === 'form' ? 'application/x-www-form-urlencoded' : 'application/json',
      'user-agent': 'GitHub-Hookshot/fake',
      'x-github-event': delivery.name,
      'x-github-delivery': deliveryId,
      'x-github-hook-id': String(hook.id),
      'x-github-hook-installation-target-type': 'repository',
      'x-github-hook-installation-target-id': String(r.model.id),
    };
    if (hook.secret) {
      headers['x-hub-signature'] = `sha1=${createHmac('sha1', hook.secret).update(body).digest('hex')}`;
      headers['x-hub-signature-256'] =
        `sha256=${createHmac('sha256', hook.secret).update(body).digest('hex')}`;
    }
    const record: HookDelivery = {
      hookId: hook.id,
      event: delivery.name,
      deliveryId,
      status: null,
      error: null,
    };
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      record.status = res.status;
      hook.lastResponse = {
        code: res.status,
        status: res.ok ? 'active' : 'failed',
        message: res.ok ? 'OK' : `Invalid HTTP Response: ${res.status}`,
      };
    } catch (err) {
      record.error = String(err);
      hook.lastResponse = { code: null, status: 'failed', message: 'failed to connect to host' };
    }
    gh.hookDeliveries.push(record);
    results.push(record);
  }
  return results;
}

function ping(gh: FakeGithub, r: FakeRepoState, hook: HookModel): Promise<HookDelivery[]> {
  const payload = {
    zen: ZEN,
    hook_id: hook.id,
    hook: hookJson(gh.url, gh.fullName(r), hook),
    repository: gh.repoJson(r.model.owner.login, r.model.name),
    sender: gh.userJson(r.model.owner.login),
  };
  return sendToRepoHooks(gh, r, { name: 'ping', payload }, hook);
}

export function hookRoutes(gh: FakeGithub): RouteDef[] {
  const api = () => gh.url;
  const hookOf = (ctx: Ctx) => ctx.repo!.hooks.find((h) => h.id === Number(ctx.params['hook_id']));

  /** GitHub's checks on a hook's config and events; null when fine. */
  const refusal = (r: FakeRepoState, config: Record<string, unknown>, events: string[], self?: HookModel) => {
    const url = config['url'];
    if (typeof url !== 'string' || !/^https?:\/\//.test(url))
      return validationFailed('Hook', 'Config must contain a valid url for webhooks', { field: 'config' });
    const type = config['content_type'];
    if (type !== undefined && type !== 'json' && type !== 'form')
      return validationFailed('Hook', 'Content type must be json or form', { field: 'content_type' });
    const known = new Set([...webhookEventNames(), '*']);
    const unknown = events.filter((e) => !known.has(e));
    if (unknown.length > 0)
      return validationFailed('Hook', `Invalid events: ${unknown.join(', ')}`, { field: 'events' });
    if (r.hooks.some((h) => h !== self && h.url === url))
      return validationFailed('Hook', 'Hook already exists on this repository');
    return null;
  };

  return [
    route('POST', '/repos/{owner}/{repo}/hooks', write('repository_hooks'), (ctx) => {
      const r = ctx.repo!;
      const name = ctx.body['name'];
      if (name !== undefined && name !== 'web')
        return validationFailed('Hook', 'Name must be web', { field: 'name' });
      const config = (ctx.body['config'] ?? {}) as Record<string, unknown>;
      const events = (ctx.body['events'] as string[] | undefined) ?? ['push'];
      const refused = refusal(r, config, events);
      if (refused) return refused;
      const hook: HookModel = {
        id: gh.nextId(),
        active: ctx.body['active'] !== false,
        events,
        url: String(config['url']),
        contentType: config['content_type'] === 'json' ? 'json' : 'form',
        secret: typeof config['secret'] === 'string' && config['secret'] ? config['secret'] : null,
        insecureSsl: String(config['insecure_ssl'] ?? '0') === '1' ? '1' : '0',
        createdAt: NOW(),
        updatedAt: NOW(),
        lastResponse: { code: null, status: 'unused', message: null },
      };
      r.hooks.push(hook);
      const body = hookJson(api(), gh.fullName(r), hook);
      if (hook.active) gh.track(ping(gh, r, hook));
      return { status: 201, body };
    }),

    route('GET', '/repos/{owner}/{repo}/hooks', read('repository_hooks'), (ctx) => ({
      status: 200,
      body: ctx.repo!.hooks.map((h) => hookJson(api(), gh.fullName(ctx.repo!), h)),
    })),

    route('GET', '/repos/{owner}/{repo}/hooks/{hook_id}', read('repository_hooks'), (ctx) => {
      const hook = hookOf(ctx);
      return hook ? { status: 200, body: hookJson(api(), gh.fullName(ctx.repo!), hook) } : notFound;
    }),

    route('PATCH', '/repos/{owner}/{repo}/hooks/{hook_id}', write('repository_hooks'), (ctx) => {
      const r = ctx.repo!;
      const hook = hookOf(ctx);
      if (!hook) return notFound;
      const config = (ctx.body['config'] as Record<string, unknown> | undefined) ?? {
        url: hook.url,
        content_type: hook.contentType,
      };
      let events = (ctx.body['events'] as string[] | undefined) ?? hook.events;
      const add = (ctx.body['add_events'] as string[] | undefined) ?? [];
      const remove = (ctx.body['remove_events'] as string[] | undefined) ?? [];
      events = [...new Set([...events, ...add])].filter((e) => !remove.includes(e));
      const refused = refusal(r, config, events, hook);
      if (refused) return refused;
      if (ctx.body['config']) {
        hook.url = String(config['url']);
        if (config['content_type'] !== undefined)
          hook.contentType = config['content_type'] === 'json' ? 'json' : 'form';
        // A new config without a secret keeps the old secret, as GitHub does.
        if (typeof config['secret'] === 'string') hook.secret = config['secret'] || null;
        if (config['insecure_ssl'] !== undefined)
          hook.insecureSsl = String(config['insecure_ssl']) === '1' ? '1' : '0';
      }
      hook.events = events;
      if (typeof ctx.body['active'] === 'boolean') hook.active = ctx.body['active'];
      hook.updatedAt = NOW();
      return { status: 200, body: hookJson(api(), gh.fullName(r), hook) };
    }),

    route(
      'DELETE',
      '/repos/{owner}/{repo}/hooks/{hook_id}',
      // Deleting takes the strongest hook scope, `admin:repo_hook` (or `repo`).
      write('repository_hooks', { scopes: ['repo', 'admin:repo_hook'] }),
      (ctx) => {
        const r = ctx.repo!;
        const hook = hookOf(ctx);
        if (!hook) return notFound;
        r.hooks.splice(r.hooks.indexOf(hook), 1);
        return { status: 204 };
      },
    ),

    route('POST', '/repos/{owner}/{repo}/hooks/{hook_id}/pings', write('repository_hooks'), (ctx) => {
      const hook = hookOf(ctx);
      if (!hook) return notFound;
      gh.track(ping(gh, ctx.repo!, hook));
      return { status: 204 };
    }),
  ];
}
