/**
 * What the GitHub tests share: an RSA key for the test App (generated once per process: it takes
 * tens of milliseconds), a repository fixture directory read as files for the fake GitHub, and a
 * GitHub App pointed at the fake.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { GithubApp, type GithubAppOptions } from '../../src/github/github-app.js';
import { createLogger } from '../../src/observability/logger.js';
import { SecretRegistry } from '../../src/observability/redact.js';

let key: string | undefined;

/** A PKCS#8 PEM private key for a test GitHub App. */
export function appPrivateKey(): string {
  key ??= generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  }).privateKey;
  return key;
}

/** Every file under `root` (dotfiles included) as path -> text, for `FakeGithub.createRepo`. */
export function fixtureFiles(
  root: string,
  dir = root,
  out: Record<string, string> = {},
): Record<string, string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) fixtureFiles(root, path, out);
    else out[relative(root, path)] = readFileSync(path, 'utf8');
  }
  return out;
}

/** A GitHub App against a fake GitHub, for tests that call it directly (no webhook server). */
export function testGithubApp(
  gh: { url: string; app: { id: number } },
  overrides: Partial<GithubAppOptions> & Pick<GithubAppOptions, 'ingress'>,
): GithubApp {
  return new GithubApp({
    appId: String(gh.app.id),
    privateKey: appPrivateKey(),
    webhookSecret: 'unused',
    baseUrl: gh.url,
    appSlug: 'devbot',
    triggerLabel: 'devbot',
    logger: createLogger({ level: 'silent' }),
    secrets: new SecretRegistry(),
    throttle: false,
    ...overrides,
  });
}

/** The env that turns a test devbot's GitHub App on against a fake GitHub. */
export function githubAppEnv(
  gh: { url: string; app: { id: number } },
  webhookSecret: string,
): Record<string, string> {
  return {
    GITHUB_APP_ID: String(gh.app.id),
    GITHUB_PRIVATE_KEY: appPrivateKey(),
    GITHUB_WEBHOOK_SECRET: webhookSecret,
    GITHUB_API_URL: gh.url,
    GITHUB_APP_SLUG: 'devbot',
  };
}
