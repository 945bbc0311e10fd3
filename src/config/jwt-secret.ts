import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.js';

/**
 * Zero configuration: without DEVBOT_JWT_SECRET, the first start generates one into the data
 * directory (mode 0600) and `devbot token` reads the same file.
 */
export function resolveJwtSecret(config: Pick<Config, 'DEVBOT_JWT_SECRET' | 'dataDir'>): string {
  if (config.DEVBOT_JWT_SECRET) return config.DEVBOT_JWT_SECRET;
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const file = join(config.dataDir, 'jwt-secret');
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    if (existing.length >= 32) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = randomBytes(32).toString('hex');
  // 'wx' so two processes starting at once cannot overwrite each other's secret.
  try {
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw err;
  }
}

/** Where the generated secret lives, or why no secret can be read (for messages). */
export type JwtSecretLookup =
  | { secret: string; from: 'DEVBOT_JWT_SECRET' | 'file'; file: string }
  | { secret: null; file: string; dataDirExists: boolean };

/**
 * The secret a running devbot signs with, without generating one: what `devbot token` needs. A
 * token signed with a freshly generated secret would be rejected by the devbot that is running on
 * another data directory, so a missing secret is reported instead of created.
 */
export function findJwtSecret(config: Pick<Config, 'DEVBOT_JWT_SECRET' | 'dataDir'>): JwtSecretLookup {
  const file = join(config.dataDir, 'jwt-secret');
  if (config.DEVBOT_JWT_SECRET) return { secret: config.DEVBOT_JWT_SECRET, from: 'DEVBOT_JWT_SECRET', file };
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing.length >= 32) return { secret: existing, from: 'file', file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return { secret: null, file, dataDirExists: existsSync(config.dataDir) };
}
