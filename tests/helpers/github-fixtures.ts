/**
 * What the GitHub tests share: an RSA key for the test App (generated once per process: it takes
 * tens of milliseconds) and a repository fixture directory read as files for the fake GitHub.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

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
