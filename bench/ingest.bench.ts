/**
 * POST /tasks throughput and latency at 50 concurrent clients against `devbot start --role
 * gateway` (verify JWT, validate, persist, enqueue), vs a bare Node HTTP server answering 200,
 * each in its own process. Target: >= 50% of the bare server's throughput.
 * BENCH_CPU_PROF=DIR writes a CPU profile of the gateway there.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { TokenIssuer } from '../src/gateway/token-issuer.js';
import {
  type BenchResult,
  deleteRedisPrefix,
  measureBareServer,
  measureFloorServer,
  measureServer,
  reference,
} from './lib.js';

const DURATION = Number(process.env['BENCH_DURATION_S'] ?? 5);
const CONNECTIONS = 50;
const DATABASE_URL = process.env['DEVBOT_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function run(): Promise<BenchResult> {
  const same = {
    connections: CONNECTIONS,
    durationSeconds: DURATION,
    method: 'POST' as const,
    body: JSON.stringify({ kind: 'question', prompt: 'bench' }),
    headers: { 'content-type': 'application/json' },
  };
  const baseline = await measureBareServer(same);
  const floor = await measureFloorServer(same);

  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const dataDir = join(tmpdir(), `devbot-bench-${schema}`);
  const secret = randomBytes(32).toString('hex');
  const env = {
    ...process.env,
    DEVBOT_DATA_DIR: dataDir,
    DATABASE_URL: `${DATABASE_URL}${DATABASE_URL.includes('?') ? '&' : '?'}options=-c%20search_path%3D${schema}`,
    DEVBOT_JWT_SECRET: secret,
    DEVBOT_QUEUE_PREFIX: `{${schema}}`,
    DEVBOT_RATE_LIMIT: '100000000',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  };
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const token = await new TokenIssuer(secret).sign('bench');
  try {
    const gateway = await measureServer(
      {
        args: ['src/main.ts', 'start', '--role', 'gateway'],
        env,
        ready: /listening on (\S+)/,
        path: '/tasks',
        profile: true,
      },
      { ...same, headers: { ...same.headers, authorization: `Bearer ${token}` } },
    );
    const ratio = gateway.rps / baseline.rps;
    return {
      name: 'ingest: POST /tasks (role gateway, PostgreSQL) vs bare Node HTTP',
      unit: 'requests/s',
      value: Math.round(gateway.rps),
      baseline: Math.round(baseline.rps),
      ratio: Number(ratio.toFixed(3)),
      target: '>= 0.5 of baseline',
      pass: ratio >= 0.5,
      details: {
        connections: CONNECTIONS,
        durationSeconds: DURATION,
        gateway: {
          p50Ms: gateway.p50,
          p99Ms: gateway.p99,
          errors: gateway.errors,
          non2xx: gateway.non2xx,
          total: gateway.total,
        },
        bare: { p50Ms: baseline.p50, p99Ms: baseline.p99 },
        // A reference server with the same requests (devbotToThis: the gateway's share of it):
        // parse + one batched INSERT + one BullMQ job, no framework, no auth, no validation.
        floor: reference(floor, baseline, gateway),
      },
    };
  } finally {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
    // The tasks it enqueued: no worker ran them.
    await deleteRedisPrefix(`{${schema}}`);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await run(), null, 2));
}
