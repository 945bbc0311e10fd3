/**
 * The GitHub App the manifest flow created, kept in the data directory (`github-app.json`, mode
 * 0600, the directory itself 0700) so the next start loads it. Environment variables win over it.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UnavailableError } from '../core/errors.js';

export const STORED_APP_FILE = 'github-app.json';

export interface StoredGithubApp {
  appId: string;
  slug: string;
  name: string;
  /** https://github.com/apps/<slug> */
  htmlUrl: string;
  owner: string;
  clientId: string;
  clientSecret: string;
  webhookSecret: string;
  /** The App's private key (PEM). */
  privateKey: string;
  createdAt: string;
}

export function storedAppPath(dataDir: string): string {
  return join(dataDir, STORED_APP_FILE);
}

/** The stored App, or null when there is none. A file that is there but unreadable is an error. */
export function readStoredGithubApp(dataDir: string): StoredGithubApp | null {
  const path = storedAppPath(dataDir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UnavailableError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const app = JSON.parse(text) as StoredGithubApp;
    if (typeof app.appId === 'string' && app.privateKey && app.webhookSecret && app.slug) return app;
  } catch {}
  throw new UnavailableError(
    `${path} is not a GitHub App devbot stored: remove it and run /setup again, or set GITHUB_APP_ID and its key`,
  );
}

/** Written to a private temporary file, then renamed: never a half-written or world-readable key. */
export function writeStoredGithubApp(dataDir: string, app: StoredGithubApp): string {
  const path = storedAppPath(dataDir);
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(app, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(tmp, 0o600);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return path;
}
