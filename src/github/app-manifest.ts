/**
 * The GitHub App manifest flow (https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest):
 * devbot's `app.yml` with this deployment's URLs becomes the manifest a person posts to GitHub's
 * "new App" page; GitHub sends them back with a one-time code, which devbot redeems for the new
 * App's id, key and secrets.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Octokit } from '@octokit/rest';
import { parse } from 'yaml';
import { BadInputError } from '../core/errors.js';
import type { StoredGithubApp } from './stored-app.js';

/** The parts of app.yml that go into the manifest. */
export interface AppYml {
  name: string;
  description?: string;
  url: string;
  public?: boolean;
  default_permissions: Record<string, string>;
  default_events: string[];
}

export interface AppManifest {
  name: string;
  url: string;
  description?: string;
  public: boolean;
  hook_attributes: { url: string; active: boolean };
  redirect_url: string;
  callback_urls: string[];
  default_permissions: Record<string, string>;
  default_events: string[];
}

/** app.yml, found by walking up from this module (src/github/ and dist/src/github/ differ in depth). */
export function loadAppYml(from: string = import.meta.url): AppYml {
  let dir = dirname(fileURLToPath(from));
  for (;;) {
    try {
      return parse(readFileSync(join(dir, 'app.yml'), 'utf8')) as AppYml;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('app.yml not found next to devbot (it ships in the package)');
    dir = parent;
  }
}

/** GitHub's rules for an App name: at most 34 characters. */
const NAME = /^[\w .-]{1,34}$/;

/** app.yml's events and permissions with this deployment's webhook and callback URLs. */
export function buildAppManifest(
  yml: AppYml,
  urls: { webhookUrl: string; callbackUrl: string; loginCallbackUrl?: string },
  name?: string,
): AppManifest {
  if (name !== undefined && !NAME.test(name))
    throw new BadInputError('the App name must be 1-34 letters, digits, spaces, dots, dashes or underscores');
  return {
    name: name ?? yml.name,
    url: yml.url,
    ...(yml.description ? { description: yml.description } : {}),
    public: yml.public ?? false,
    hook_attributes: { url: urls.webhookUrl, active: true },
    redirect_url: urls.callbackUrl,
    // The OAuth callback of signing in with GitHub (`/login`), which GitHub checks redirect_uri against.
    callback_urls: [urls.callbackUrl, ...(urls.loginCallbackUrl ? [urls.loginCallbackUrl] : [])],
    default_permissions: { ...yml.default_permissions },
    default_events: [...yml.default_events],
  };
}

/** The refusal when GitHub does not know a code: used already, never issued, or older than an hour. */
export class ManifestCodeError extends BadInputError {}

/** Redeems a manifest code (`POST /app-manifests/{code}/conversions`, no credentials: the code is the proof). */
export async function convertManifestCode(apiUrl: string, code: string): Promise<StoredGithubApp> {
  if (!/^[\w-]{1,100}$/.test(code)) throw new ManifestCodeError('the code GitHub sent back is malformed');
  const octokit = new Octokit({ baseUrl: apiUrl, userAgent: 'devbot' });
  let data: Record<string, unknown>;
  try {
    data = (await octokit.request('POST /app-manifests/{code}/conversions', { code })).data as Record<
      string,
      unknown
    >;
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status === 404)
      throw new ManifestCodeError(
        'GitHub does not know this code: it was used already, or it is more than an hour old. Nothing was stored; start again from /setup.',
        { cause: err },
      );
    if (status === 422)
      throw new ManifestCodeError(
        `GitHub refused to create the App (${(err as Error).message}). Nothing was stored; start again from /setup (another App name?).`,
        { cause: err },
      );
    throw err;
  }
  const owner = (data['owner'] ?? {}) as Record<string, unknown>;
  const str = (key: string) => (typeof data[key] === 'string' ? (data[key] as string) : '');
  const app: StoredGithubApp = {
    appId: String(data['id']),
    slug: str('slug'),
    name: str('name'),
    htmlUrl: str('html_url'),
    owner: typeof owner['login'] === 'string' ? owner['login'] : '',
    clientId: str('client_id'),
    clientSecret: str('client_secret'),
    webhookSecret: str('webhook_secret'),
    privateKey: str('pem'),
    createdAt: new Date().toISOString(),
  };
  if (!/^\d+$/.test(app.appId) || !app.slug || !app.privateKey || !app.webhookSecret)
    throw new Error('GitHub answered the manifest conversion without an App id, slug, key or webhook secret');
  return app;
}
