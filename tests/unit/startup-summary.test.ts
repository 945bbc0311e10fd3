import { describe, expect, it } from 'vitest';
import { startupSummary } from '../../src/app/startup-summary.js';
import { loadConfig } from '../../src/config/config.js';

const facts = {
  role: 'all' as const,
  store: 'pglite' as const,
  redis: { url: 'redis://127.0.0.1:6379', private: false },
  prefix: '{devbot}',
  url: 'http://127.0.0.1:3000',
  publicUrl: 'http://127.0.0.1:3000',
};

describe('startupSummary', () => {
  it('says what is off and what to set, with zero configuration', () => {
    const { text, parts } = startupSummary(loadConfig({}, '/srv/app'), facts);
    expect(parts).toEqual({
      store: 'PGlite in /srv/app/.devbot/pglite',
      queue: 'redis://127.0.0.1:6379 (external), prefix {devbot}',
      sandbox: 'local bubblewrap, network off',
      llm: 'off: set OPENAI_API_KEY or OPENAI_BASE_URL',
      github: 'off: set GITHUB_TOKEN (token mode) or GITHUB_APP_ID and its key, or open /setup',
      telegram: 'off: set TELEGRAM_BOT_TOKEN',
      publicUrl: 'http://127.0.0.1:3000 (the bound address: set DEVBOT_PUBLIC_URL for links others can open)',
    });
    expect(text.split('\n')).toHaveLength(1);
    expect(text).toMatch(/^listening on http:\/\/127\.0\.0\.1:3000 as all \| store: PGlite in/);
  });

  it('names what is on without a password or key', () => {
    const password = 'pg-secret-password';
    const config = loadConfig({
      DATABASE_URL: `postgres://devbot:${password}@db.internal:5432/devbot`,
      REDIS_URL: `redis://:${password}@redis.internal:6380/2`,
      DEVBOT_SANDBOX: 'e2b',
      E2B_API_KEY: 'e2b_0123456789abcdef',
      DEVBOT_SANDBOX_NETWORK: 'allowlist',
      DEVBOT_SANDBOX_ALLOWED_DOMAINS: 'registry.npmjs.org,pypi.org',
      OPENAI_API_KEY: 'sk-test-key-0123456789',
      OPENAI_BASE_URL: 'http://ollama.internal:11434/v1',
      DEVBOT_MODEL: 'qwen2.5-coder',
      DEVBOT_MODEL_CODER: 'qwen2.5-coder:32b',
      GITHUB_APP_ID: '42',
      GITHUB_PRIVATE_KEY: 'pem',
      GITHUB_WEBHOOK_SECRET: 'whsec',
      TELEGRAM_BOT_TOKEN: '123456:ABCdef',
      TELEGRAM_ALLOWED_USER_IDS: '1,2',
      DEVBOT_PUBLIC_URL: 'https://devbot.example.com',
    });
    const { text, parts } = startupSummary(config, {
      ...facts,
      store: 'postgres',
      redis: { url: config.redisUrl, private: false },
      publicUrl: 'https://devbot.example.com',
    });
    expect(parts).toEqual({
      store: 'PostgreSQL at db.internal:5432',
      queue: 'redis://redis.internal:6380/2 (external), prefix {devbot}',
      sandbox: 'E2B, network allowlist (2 domains)',
      llm: 'ollama.internal:11434/v1, models qwen2.5-coder, coder qwen2.5-coder:32b',
      github: 'App 42 (github.com)',
      telegram: 'on (long polling, 2 allowed user(s))',
      publicUrl: 'https://devbot.example.com',
    });
    expect(text).not.toContain(password);
    expect(text).not.toContain('sk-test');
  });

  it("says when a role runs no sandboxes, and when Redis is devbot's own", () => {
    const { parts } = startupSummary(loadConfig({}), {
      ...facts,
      role: 'gateway',
      redis: { url: 'redis://127.0.0.1:40001', private: true },
    });
    expect(parts.sandbox).toBe('not used by --role gateway');
    expect(parts.queue).toBe(
      'redis://127.0.0.1:40001 (private redis-server started by devbot), prefix {devbot}',
    );
  });
});
