/**
 * GitHub Apps on the fake: the App's own endpoints (JWT), installation tokens, and the manifest
 * flow that creates an App: a person's browser posts the manifest to GitHub's "new App" page
 * (`/settings/apps/new`, here confirmed at once), GitHub redirects to the manifest's
 * `redirect_url` with a one-time `code`, and the App's server redeems the code at
 * `POST /app-manifests/{code}/conversions` for its id, private key and secrets.
 */
import { randomBytes } from 'node:crypto';
import type { FakeGithub } from './fake-github.js';
import { githubError } from './fake-github-auth.js';
import { notFound, type Reply, type RouteDef, route, unprocessable } from './fake-github-http.js';
import { appJson, installationJson, repoJson } from './fake-github-models.js';

/** The App manifest a person posts to GitHub (GitHub's documented manifest parameters). */
export interface AppManifest {
  name?: string;
  url: string;
  hook_attributes?: { url: string; active?: boolean };
  redirect_url?: string;
  callback_urls?: string[];
  setup_url?: string;
  description?: string;
  public?: boolean;
  default_events?: string[];
  default_permissions?: Record<string, string>;
  request_oauth_on_install?: boolean;
  setup_on_update?: boolean;
}

export interface ManifestInput {
  manifest: AppManifest;
  /** The account the new App belongs to (the person, or the organization of the form's URL). */
  owner: string;
  expiresAt: number;
}

function slugOf(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

/** What GitHub's form refuses: not JSON, or no `url` (the one required manifest field). */
function parseManifest(text: string | null): AppManifest | string {
  if (!text) return 'manifest is missing';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'manifest is not valid JSON';
  }
  if (typeof parsed !== 'object' || parsed === null) return 'manifest is not a JSON object';
  const m = parsed as Record<string, unknown>;
  if (typeof m['url'] !== 'string') return 'url is required';
  const hook = m['hook_attributes'] as Record<string, unknown> | undefined;
  if (hook !== undefined && typeof hook['url'] !== 'string') return 'hook_attributes.url is required';
  return parsed as AppManifest;
}

export function appRoutes(gh: FakeGithub): RouteDef[] {
  const api = () => gh.url;
  const web = () => gh.webUrl;

  const newAppForm = (ownerOf: (params: Record<string, string>) => string) =>
    route(
      'POST',
      '',
      { kind: 'public' },
      (ctx): Reply => {
        const manifest = parseManifest(new URLSearchParams(ctx.rawBody).get('manifest'));
        if (typeof manifest === 'string')
          return { status: 422, text: `Invalid GitHub App configuration: ${manifest}` };
        if (!manifest.redirect_url)
          return { status: 422, text: 'Invalid GitHub App configuration: redirect_url is required' };
        const code = randomBytes(10).toString('hex');
        gh.registerManifestCode(code, manifest, ownerOf(ctx.params));
        const target = new URL(manifest.redirect_url);
        target.searchParams.set('code', code);
        const state = ctx.query.get('state');
        if (state !== null) target.searchParams.set('state', state);
        return { status: 302, text: '', headers: { location: target.toString() } };
      },
      { outsideRestApi: true },
    );
  // github.com's pages: served at the root and under /web (the fake's web base).
  const forms: RouteDef[] = [];
  for (const prefix of ['', '/web']) {
    forms.push({ ...newAppForm(() => gh.signedInUser), template: `${prefix}/settings/apps/new` });
    forms.push({
      ...newAppForm((p) => p['org'] ?? gh.signedInUser),
      template: `${prefix}/organizations/{org}/settings/apps/new`,
    });
  }

  return [
    ...forms,

    route('GET', '/app', { kind: 'app' }, (ctx) => {
      if (ctx.auth.kind !== 'app') return notFound;
      return { status: 200, body: appJson(api(), web(), ctx.auth.app.model) };
    }),

    route('GET', '/app/installations', { kind: 'app' }, (ctx) => {
      if (ctx.auth.kind !== 'app') return notFound;
      const app = ctx.auth.app;
      // GitHub's description types this list's `account` as user AND enterprise (allOf), so the
      // fake adds the enterprise fields too.
      const list = [...app.installations.values()].map((i) => {
        const json = installationJson(api(), web(), app.model, i.id, i.account);
        const account = json['account'] as Record<string, unknown>;
        Object.assign(account, {
          name: i.account.login,
          slug: i.account.login.toLowerCase(),
          created_at: app.model.createdAt,
          updated_at: app.model.createdAt,
        });
        return json;
      });
      return { status: 200, body: list };
    }),

    route('POST', '/app/installations/{installation_id}/access_tokens', { kind: 'app' }, (ctx) => {
      if (ctx.auth.kind !== 'app') return notFound;
      const app = ctx.auth.app;
      const installation = app.installations.get(Number(ctx.params['installation_id']));
      if (!installation) return notFound;
      const token = gh.mintInstallationToken(app, installation);
      return {
        status: 201,
        body: {
          token,
          expires_at: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          permissions: app.permissions,
          repository_selection: 'all',
        },
      };
    }),

    route('GET', '/repos/{owner}/{repo}/installation', { kind: 'app' }, (ctx) => {
      if (ctx.auth.kind !== 'app') return notFound;
      const r = gh.findRepo(ctx.params['owner'] ?? '', ctx.params['repo'] ?? '');
      const installation = r ? gh.installationFor(ctx.auth.app, r.model.owner.login) : undefined;
      if (!r || !installation) return notFound;
      return {
        status: 200,
        body: installationJson(api(), web(), ctx.auth.app.model, installation.id, r.model.owner),
      };
    }),

    // No credentials: the code itself is the proof (GitHub's manifest flow).
    route('POST', '/app-manifests/{code}/conversions', { kind: 'public' }, (ctx) => {
      const entry = gh.takeManifestCode(ctx.params['code'] ?? '');
      if (!entry)
        return githubError(
          404,
          'Not Found',
          'https://docs.github.com/rest/apps/apps#create-a-github-app-from-a-manifest',
        );
      const m = entry.manifest;
      const name = m.name ?? `${entry.owner}-app`;
      const slug = slugOf(name);
      if (gh.appBySlug(slug)) return unprocessable(['Name is already in use']);
      const hasHook = m.hook_attributes !== undefined;
      const { record, pem } = gh.createApp({
        slug,
        name,
        owner: gh.user(entry.owner),
        description: m.description ?? null,
        externalUrl: m.url,
        // GitHub gives every App read access to repository metadata.
        permissions: { metadata: 'read', ...(m.default_permissions ?? {}) },
        events: m.default_events ?? [],
        webhookSecret: hasHook ? randomBytes(20).toString('hex') : null,
      });
      return {
        status: 201,
        body: {
          ...appJson(api(), web(), record.model),
          installations_count: 0,
          client_id: record.clientId,
          client_secret: record.clientSecret,
          webhook_secret: record.webhookSecret,
          pem,
        },
      };
    }),

    // The repositories an installation token reaches.
    route('GET', '/installation/repositories', { kind: 'token' }, (ctx) => {
      if (ctx.auth.kind !== 'installation')
        return githubError(403, 'This endpoint can only be accessed with an installation token');
      const inst = ctx.auth.installation;
      const repos = gh
        .allRepos()
        .filter((r) => inst.everyAccount || r.model.owner.login === inst.account.login)
        .map((r) => repoJson(api(), web(), gh.gitUrl, r.model, false));
      return {
        status: 200,
        body: { total_count: repos.length, repository_selection: 'all', repositories: repos },
      };
    }),
  ];
}
