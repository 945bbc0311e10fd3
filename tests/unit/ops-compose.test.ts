import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { USERNS_CAPABILITIES } from '../../sandbox/local/launch-mode.js';
import { configSchema, loadConfig } from '../../src/config/config.js';
import { ROOT, repoFile, repoYaml, run, which } from './ops-helpers.js';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  env_file?: string | string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] | string };
  ports?: string[];
  volumes?: string[];
  container_name?: string;
  security_opt?: string[];
  cap_drop?: string[];
  cap_add?: string[];
  stop_grace_period?: string;
  privileged?: boolean;
  user?: string;
}
interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

const compose = repoYaml<Compose>('docker-compose.yml');
const ROLES = ['gateway', 'worker', 'bot'] as const;
const CONFIG_VARS = new Set(Object.keys(configSchema.shape));

/** `docker compose` (v2 plugin) or `docker-compose` (v1); neither needs a Docker engine for `config`. */
function composeCli(): { cmd: string; args: string[] } | null {
  if (which('docker') && run('docker', ['compose', 'version']).code === 0)
    return { cmd: 'docker', args: ['compose'] };
  if (which('docker-compose')) return { cmd: 'docker-compose', args: [] };
  return null;
}

describe('docker-compose.yml', () => {
  it('has the stack: Postgres with pgvector, Redis, devbot roles, Loki, Prometheus, Grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['bot', 'gateway', 'grafana', 'loki', 'postgres', 'prometheus', 'redis', 'worker'].sort(),
    );
    expect(compose.services['postgres']?.image).toMatch(/^pgvector\/pgvector:pg1[6-9]/);
    const redis = compose.services['redis'];
    expect(redis?.command?.join(' ')).toMatch(/--appendonly yes/);
    expect(redis?.command?.join(' ')).toMatch(/--maxmemory-policy noeviction/);
    for (const name of ['postgres', 'redis', 'loki', 'prometheus', 'grafana'])
      expect(compose.services[name]?.healthcheck, `${name} healthcheck`).toBeDefined();
  });

  it('runs each devbot role from the one image, after Postgres and Redis are healthy', () => {
    for (const role of ROLES) {
      const service = compose.services[role];
      expect(service?.command).toEqual(['start', '--role', role]);
      expect(service?.build).toBe('.');
      expect(service?.env_file).toBe('.env');
      expect(service?.depends_on?.['postgres']?.condition).toBe('service_healthy');
      expect(service?.depends_on?.['redis']?.condition).toBe('service_healthy');
      expect(service?.privileged).toBeUndefined();
      if (role !== 'worker') expect(service?.cap_add).toBeUndefined();
    }
    // Docker kills 10 s after SIGTERM by default: each role gets longer than its shutdown grace.
    const graceMs = loadConfig({}).DEVBOT_SHUTDOWN_GRACE_MS;
    for (const role of ROLES) {
      const m = /^(\d+)s$/.exec(compose.services[role]?.stop_grace_period ?? '');
      expect(Number(m?.[1] ?? 0) * 1000, `${role}: stop_grace_period`).toBeGreaterThan(graceMs);
    }
    // The image's HEALTHCHECK covers the roles (every role serves /healthz).
    expect(repoFile('Dockerfile')).toMatch(/HEALTHCHECK[\s\S]*\/healthz/);
  });

  it('sets only environment variables devbot declares, wired to the services in the stack', () => {
    const services = new Set(Object.keys(compose.services));
    for (const role of ROLES) {
      const env = compose.services[role]?.environment ?? {};
      for (const name of Object.keys(env)) expect(CONFIG_VARS, `${role}: ${name}`).toContain(name);
      // Hosts in the wiring URLs are services of this file.
      for (const name of ['DATABASE_URL', 'REDIS_URL', 'LOKI_URL']) {
        const value = (env[name] ?? '').replace(/\$\{[^}]*\}/g, 'x');
        expect(services, `${role}: ${name}=${env[name]}`).toContain(new URL(value).hostname);
      }
      expect(env['DATABASE_URL']).toMatch(/^postgres:\/\//);
      expect(env['REDIS_URL']).toMatch(/^redis:\/\//);
      expect(env['PORT']).toBe('3000');
      // devbot listens on loopback unless told otherwise; in a container that reaches no one.
      expect(env['HOST'], `${role}: HOST`).toBe('0.0.0.0');
    }
  });

  it('lets the worker scale: no container name and no host port', () => {
    const worker = compose.services['worker'];
    expect(worker?.container_name).toBeUndefined();
    expect(worker?.ports).toBeUndefined();
    // What bubblewrap needs, and nothing more (docs/operations.md "Worker sandbox").
    expect(worker?.security_opt).toEqual(
      expect.arrayContaining(['seccomp=unconfined', 'apparmor=unconfined', 'systempaths=unconfined']),
    );
    expect(worker?.cap_drop).toEqual(['ALL']);
    // Root with exactly the capabilities the local sandbox's userns mode checks for; never SYS_ADMIN.
    expect(worker?.user).toBe('0:0');
    expect([...(worker?.cap_add ?? [])].sort()).toEqual([...USERNS_CAPABILITIES].sort());
  });

  it('keeps data in named volumes and mounts only files that exist in the repository', () => {
    for (const [name, path] of [
      ['postgres', '/var/lib/postgresql/data'],
      ['redis', '/data'],
    ] as const) {
      const mount = compose.services[name]?.volumes?.find((v) => v.split(':')[1] === path);
      expect(mount, `${name} data volume`).toBeDefined();
      expect(Object.keys(compose.volumes)).toContain(mount?.split(':')[0]);
    }
    for (const [name, service] of Object.entries(compose.services))
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0] ?? '';
        if (source.startsWith('./')) expect(existsSync(join(ROOT, source)), `${name}: ${source}`).toBe(true);
        // An anonymous volume (a path alone): one per container, so only where replicas must not share.
        else if (!volume.includes(':')) expect(name, `${name}: anonymous ${volume}`).toBe('worker');
        else expect(Object.keys(compose.volumes), `${name}: ${source}`).toContain(source);
      }
    // Scaled workers never share a data directory (git mirrors, sandboxes).
    expect(compose.services['worker']?.volumes).toEqual(['/var/lib/devbot']);
  });

  it('requires the database and Grafana passwords instead of defaulting them', () => {
    const text = repoFile('docker-compose.yml');
    expect(text).toMatch(/POSTGRES_PASSWORD:\?/);
    expect(text).toMatch(/GRAFANA_ADMIN_PASSWORD:\?/);
  });

  const cli = composeCli();
  const skipReason = cli ? '' : ' (skipped: neither `docker compose` nor `docker-compose` is installed)';
  describe.skipIf(!cli)(`compose CLI${skipReason}`, () => {
    let dir = '';
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'devbot-compose-'));
      copyFileSync(join(ROOT, 'docker-compose.yml'), join(dir, 'docker-compose.yml'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const config = (env: string) => {
      writeFileSync(join(dir, '.env'), env);
      // COMPOSE_* and the passwords must come from the .env of the project dir, not this shell.
      const {
        POSTGRES_PASSWORD: _p,
        GRAFANA_ADMIN_PASSWORD: _g,
        DEVBOT_JWT_SECRET: _j,
        ...clean
      } = process.env;
      return run(cli?.cmd ?? '', [...(cli?.args ?? []), 'config'], dir, clean);
    };

    it('`compose config` resolves the file', () => {
      const out = config(
        `POSTGRES_PASSWORD=pw-from-env\nGRAFANA_ADMIN_PASSWORD=admin-pw\nDEVBOT_JWT_SECRET=${'j'.repeat(40)}\nTELEGRAM_BOT_TOKEN=\n`,
      );
      expect(out.code, out.stderr).toBe(0);
      const resolved = parse(out.stdout) as Compose;
      // Every role shares the token secret; the bot submits tasks to the same database and queue.
      for (const role of ['gateway', 'worker', 'bot']) {
        expect(resolved.services[role]?.environment?.['DEVBOT_JWT_SECRET']).toBe('j'.repeat(40));
      }
      expect(resolved.services['bot']?.environment?.['DATABASE_URL']).toBe(
        resolved.services['worker']?.environment?.['DATABASE_URL'],
      );
      // Assembled so the pre-commit secret scan does not take this fixture for a leaked URL.
      expect(resolved.services['worker']?.environment?.['DATABASE_URL']).toBe(
        ['postgres://devbot', 'pw-from-env@postgres:5432/devbot'].join(':'),
      );
      expect(resolved.services['gateway']?.depends_on?.['redis']?.condition).toBe('service_healthy');
    });

    it('`compose config` refuses to run without POSTGRES_PASSWORD and says what to set', () => {
      const out = config(`GRAFANA_ADMIN_PASSWORD=admin-pw\nDEVBOT_JWT_SECRET=${'j'.repeat(40)}\n`);
      expect(out.code).not.toBe(0);
      expect(out.stderr).toMatch(/set POSTGRES_PASSWORD in \.env/);
      const noSecret = config('POSTGRES_PASSWORD=pw\nGRAFANA_ADMIN_PASSWORD=admin-pw\n');
      expect(noSecret.code).not.toBe(0);
      expect(noSecret.stderr).toMatch(/set DEVBOT_JWT_SECRET in \.env/);
    });
  });
});
