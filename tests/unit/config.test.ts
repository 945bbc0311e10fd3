import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configSchema, loadConfig } from '../../src/config/config.js';
import { findJwtSecret, resolveJwtSecret } from '../../src/config/jwt-secret.js';
import { removeDir, tempDir } from '../helpers/test-env.js';

describe('config', () => {
  it('works with zero configuration', () => {
    const config = loadConfig({}, '/srv/app');
    expect(config).toMatchObject({
      PORT: 3000,
      // Zero configuration listens on loopback only; HOST=0.0.0.0 opens it to the network.
      HOST: '127.0.0.1',
      DEVBOT_SANDBOX: 'local',
      redisUrl: 'redis://127.0.0.1:6379',
      redisDefaulted: true,
      dataDir: '/srv/app/.devbot',
    });
    expect(config.DATABASE_URL).toBeUndefined();
    // Unset: derived from the deployment's id at start, so two zero-config devbots never share one.
    expect(config.DEVBOT_QUEUE_PREFIX).toBeUndefined();
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' }).PORT).toBe(3000);
  });

  it('names the variable and what to put there when a value is malformed', () => {
    const bad = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error('expected a ConfigError');
    };
    expect(bad({ PORT: 'abc' })).toMatch(/PORT: must be a port number \(0-65535\)/);
    expect(bad({ PORT: '99999' })).toMatch(/PORT: must be a port number \(0-65535\)/);
    expect(bad({ LOG_FORMAT: 'yaml' })).toMatch(/LOG_FORMAT/);
    expect(bad({ DEVBOT_CONCURRENCY: '0' })).toMatch(/DEVBOT_CONCURRENCY: must be at least 1/);
    expect(bad({ DATABASE_URL: 'mysql://x' })).toMatch(/DATABASE_URL: must be a postgres:\/\/ URL/);
    expect(bad({ DEVBOT_JWT_SECRET: 'short' })).toMatch(/DEVBOT_JWT_SECRET: .*openssl rand -hex 32/);
    expect(bad({ TELEGRAM_BOT_TOKEN: 'nope' })).toMatch(/TELEGRAM_BOT_TOKEN: must look like/);
    expect(bad({ TELEGRAM_API_ROOT: 'http://x/' })).toMatch(/must not end with \//);
    expect(bad({ GITHUB_APP_ID: '12' })).toMatch(/GITHUB_WEBHOOK_SECRET/);
    expect(bad({ DEVBOT_SANDBOX: 'e2b' })).toMatch(/E2B_API_KEY: required/);
    expect(bad({ TELEGRAM_WEBHOOK_URL: 'https://x.example/hook' })).toMatch(/TELEGRAM_WEBHOOK_SECRET/);
    expect(bad({ DEVBOT_QUEUE_PREFIX: 'devbot' })).toMatch(/DEVBOT_QUEUE_PREFIX/);
    expect(bad({ DEVBOT_SANDBOX_NETWORK: 'on' })).toMatch(/DEVBOT_SANDBOX_NETWORK/);
    expect(bad({ DEVBOT_SANDBOX_ALLOWED_DOMAINS: 'github.com, http://x' })).toMatch(
      /DEVBOT_SANDBOX_ALLOWED_DOMAINS.*comma-separated list of domain names/,
    );
  });

  it('takes a GitHub token or an App, not both, and derives the API from GITHUB_URL', () => {
    const bad = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return '';
      } catch (err) {
        return (err as ConfigError).message;
      }
    };
    expect(bad({ GITHUB_TOKEN: 't' })).toMatch(/GITHUB_WEBHOOK_SECRET: required with GITHUB_TOKEN/);
    expect(bad({ GITHUB_TOKEN: 't', GITHUB_WEBHOOK_SECRET: 's', GITHUB_APP_ID: '1' })).toMatch(
      /GITHUB_TOKEN: set either a personal token .* not both/,
    );
    expect(bad({ GITHUB_TOKEN: 't', GITHUB_WEBHOOK_SECRET: 's' })).toBe('');
    expect(loadConfig({}).GITHUB_API_URL).toBe('https://api.github.com');
    expect(loadConfig({ GITHUB_URL: 'https://ghe.example.com/' })).toMatchObject({
      GITHUB_URL: 'https://ghe.example.com',
      GITHUB_API_URL: 'https://ghe.example.com/api/v3',
    });
    expect(
      loadConfig({ GITHUB_URL: 'https://ghe.example.com', GITHUB_API_URL: 'https://api.ghe.example.com/' })
        .GITHUB_API_URL,
    ).toBe('https://api.ghe.example.com');
  });

  it('keeps sandboxes off the network unless an allowlist is chosen', () => {
    const off = loadConfig({});
    expect(off.DEVBOT_SANDBOX_NETWORK).toBe('off');
    expect(off.DEVBOT_SANDBOX_ALLOWED_DOMAINS).toContain('registry.npmjs.org');
    const on = loadConfig({
      DEVBOT_SANDBOX_NETWORK: 'allowlist',
      DEVBOT_SANDBOX_ALLOWED_DOMAINS: ' Registry.npmjs.org , .pypi.org,,',
    });
    expect(on.DEVBOT_SANDBOX_ALLOWED_DOMAINS).toEqual(['registry.npmjs.org', '.pypi.org']);
  });

  it('documents every variable in .env.example', () => {
    const example = readFileSync(join(import.meta.dirname, '../../.env.example'), 'utf8');
    const documented = new Set([...example.matchAll(/^([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    const missing = Object.keys(configSchema.shape).filter((k) => !documented.has(k));
    expect(missing).toEqual([]);
  });

  it('.env.example: only variables devbot reads (or docker compose), each under a comment, values the defaults', () => {
    const example = readFileSync(join(import.meta.dirname, '../../.env.example'), 'utf8');
    const lines = example.split('\n');
    const composeOnly = lines.findIndex((l) => l.startsWith('# --- docker compose only'));
    expect(composeOnly).toBeGreaterThan(0);
    const known = new Set(Object.keys(configSchema.shape));
    const defaults = loadConfig({}, '/srv/app') as unknown as Record<string, unknown>;
    const unknown: string[] = [];
    const uncommented: string[] = [];
    const notDefault: string[] = [];
    // A variable's comment is the block of `#` lines right above it, or above the variables
    // listed with it (no blank line between).
    let commented = false;
    lines.slice(0, composeOnly).forEach((line) => {
      if (line.trim() === '') commented = false;
      else if (line.startsWith('#')) commented = !line.startsWith('# ---');
      const m = /^([A-Z][A-Z0-9_]+)=(.*)$/.exec(line);
      if (!m) return;
      const [, name, value] = m as unknown as [string, string, string];
      if (!known.has(name)) unknown.push(name);
      if (!commented) uncommented.push(name);
      if (value !== '' && known.has(name)) {
        const parsed = loadConfig({ [name]: value }, '/srv/app') as unknown as Record<string, unknown>;
        if (JSON.stringify(parsed[name]) !== JSON.stringify(defaults[name])) notDefault.push(name);
      }
    });
    expect({ unknown, uncommented, notDefault }).toEqual({ unknown: [], uncommented: [], notDefault: [] });
  });

  it('generates the JWT secret once, owner-readable only, and reuses it', () => {
    const dir = tempDir();
    try {
      const first = resolveJwtSecret({ dataDir: dir, DEVBOT_JWT_SECRET: undefined });
      const second = resolveJwtSecret({ dataDir: dir, DEVBOT_JWT_SECRET: undefined });
      expect(first).toHaveLength(64);
      expect(second).toBe(first);
      expect(statSync(join(dir, 'jwt-secret')).mode & 0o777).toBe(0o600);
      expect(resolveJwtSecret({ dataDir: dir, DEVBOT_JWT_SECRET: 'x'.repeat(40) })).toBe('x'.repeat(40));
    } finally {
      removeDir(dir);
    }
  });

  it('finds the secret for `devbot token` without generating one', () => {
    const dir = tempDir();
    try {
      const missing = join(dir, 'not-started');
      expect(findJwtSecret({ dataDir: missing, DEVBOT_JWT_SECRET: undefined })).toEqual({
        secret: null,
        file: join(missing, 'jwt-secret'),
        dataDirExists: false,
      });
      expect(findJwtSecret({ dataDir: dir, DEVBOT_JWT_SECRET: undefined })).toMatchObject({
        secret: null,
        dataDirExists: true,
      });
      const generated = resolveJwtSecret({ dataDir: dir, DEVBOT_JWT_SECRET: undefined });
      expect(findJwtSecret({ dataDir: dir, DEVBOT_JWT_SECRET: undefined })).toMatchObject({
        secret: generated,
        from: 'file',
      });
      expect(findJwtSecret({ dataDir: missing, DEVBOT_JWT_SECRET: 'y'.repeat(40) })).toMatchObject({
        secret: 'y'.repeat(40),
        from: 'DEVBOT_JWT_SECRET',
      });
      expect(readdirSync(dir)).toEqual(['jwt-secret']);
    } finally {
      removeDir(dir);
    }
  });
});
