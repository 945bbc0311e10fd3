/**
 * GitHub webhook ingest: signed `issue_comment` deliveries (`/devbot ...`, a new comment each, so
 * every request verifies the signature, checks permission, persists and enqueues a task, and
 * reacts 👀) against devbot's gateway with the GitHub module, vs a bare Node HTTP server
 * answering 200, each in its own process. Target: >= 40% of the bare server's throughput.
 *
 * Run with `--serve` this file is the devbot gateway process itself, with only the GitHub module
 * (what is measured is ingest, not the crew). The fake GitHub API runs in the load-generating
 * process. BENCH_CPU_PROF=DIR writes a CPU profile of the gateway there.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { startDevbot } from '../src/app/start-devbot.js';
import { loadConfig } from '../src/config/config.js';
import { startFakeGithub } from '../tests/fakes/github/fake-github.js';
import { issueCommentCreated, signBody } from '../tests/fakes/github/webhook-payloads.js';
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

async function serve(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await startDevbot({
    config,
    role: 'gateway',
    ...(process.env['BENCH_PG_SCHEMA'] ? { pgSchema: process.env['BENCH_PG_SCHEMA'] } : {}),
  });
  process.stdout.write(`listening on ${app.url}\n`);
  process.on('SIGTERM', () => {
    void app.stop().then(() => process.exit(0));
  });
}

export async function run(): Promise<BenchResult> {
  const gh = await startFakeGithub({ appId: 4711 });
  await gh.createRepo({ owner: 'bench', name: 'repo' });
  gh.setPermission('bench', 'repo', 'alice', 'write');
  const issue = gh.createIssue('bench', 'repo', { title: 'Bench', body: 'body', user: 'alice' });
  const comment = gh.addComment('bench', 'repo', issue.number, '/devbot do the thing', 'alice');
  const payload = issueCommentCreated(gh, 'bench', 'repo', comment).payload;
  const secret = randomBytes(20).toString('hex');
  let counter = 0;
  // A new comment per request: the same comment twice would only measure the dedupe path.
  const nextRequest = (req: Record<string, unknown>) => {
    counter++;
    (payload['comment'] as Record<string, unknown>)['id'] = 10_000_000 + counter;
    const body = JSON.stringify(payload);
    return {
      ...req,
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'issue_comment',
        'x-github-delivery': `bench-${counter}`,
        'x-hub-signature-256': signBody(secret, body),
      },
    };
  };

  const baseline = await measureBareServer({
    connections: CONNECTIONS,
    durationSeconds: DURATION,
    setupRequest: nextRequest,
  });

  const floor = await measureFloorServer(
    { connections: CONNECTIONS, durationSeconds: DURATION, setupRequest: nextRequest },
    { verifySecret: secret },
  );

  const probotNoop = await measureProbot(gh.url, secret, nextRequest, false);
  const probotFloor = await measureProbot(gh.url, secret, nextRequest, true);

  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const dataDir = join(tmpdir(), `devbot-bench-${schema}`);
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const env = {
    ...process.env,
    DEVBOT_DATA_DIR: dataDir,
    DATABASE_URL,
    BENCH_PG_SCHEMA: schema,
    DEVBOT_JWT_SECRET: randomBytes(32).toString('hex'),
    DEVBOT_QUEUE_PREFIX: `{${schema}}`,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
    GITHUB_APP_ID: '4711',
    GITHUB_PRIVATE_KEY: privateKey,
    GITHUB_WEBHOOK_SECRET: secret,
    GITHUB_API_URL: gh.url,
  };
  try {
    const devbot = await measureServer(
      {
        args: ['bench/webhook.bench.ts', '--serve'],
        env,
        ready: /listening on (\S+)/,
        path: '/api/github/webhooks',
        profile: true,
      },
      { connections: CONNECTIONS, durationSeconds: DURATION, setupRequest: nextRequest },
    );
    const { rows } = await admin.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${schema}.tasks`);
    const ratio = devbot.rps / baseline.rps;
    return {
      name: 'webhook ingest: signed issue_comment (verify, permission, persist, enqueue, react) vs bare Node HTTP',
      unit: 'requests/s',
      value: Math.round(devbot.rps),
      baseline: Math.round(baseline.rps),
      ratio: Number(ratio.toFixed(3)),
      target: '>= 0.4 of baseline',
      pass: ratio >= 0.4,
      details: {
        connections: CONNECTIONS,
        durationSeconds: DURATION,
        devbot: {
          p50Ms: devbot.p50,
          p99Ms: devbot.p99,
          errors: devbot.errors,
          non2xx: devbot.non2xx,
          total: devbot.total,
        },
        bare: { p50Ms: baseline.p50, p99Ms: baseline.p99 },
        // Reference servers with the same deliveries (devbotToThis: devbot's share of each):
        // floor = HMAC check + parse + one batched INSERT + one BullMQ job, no framework;
        // probotNoop = Probot's createNodeMiddleware with an empty handler;
        // probotFloor = Probot with the floor's durable write in its handler, the least this stack does.
        floor: reference(floor, baseline, devbot),
        probotNoop: reference(probotNoop, baseline, devbot),
        probotFloor: reference(probotFloor, baseline, devbot),
        requestsAnswered: devbot.total,
        tasksPersisted: Number(rows[0]?.n ?? 0),
        reactionsOnTheFake: gh.repo('bench', 'repo').reactions.length,
      },
    };
  } finally {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
    // The tasks it enqueued: no worker ran them.
    await deleteRedisPrefix(`{${schema}}`);
    await gh.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Probot with an empty handler, or (withFloor) with the floor's durable write in the handler. */
async function measureProbot(
  apiUrl: string,
  secret: string,
  setupRequest: (req: Record<string, unknown>) => Record<string, unknown>,
  withFloor: boolean,
) {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const env = {
    NOOP_APP_ID: '4711',
    NOOP_PRIVATE_KEY: privateKey,
    NOOP_WEBHOOK_SECRET: secret,
    NOOP_GITHUB_API_URL: apiUrl,
  };
  const options = { connections: CONNECTIONS, durationSeconds: DURATION, setupRequest };
  const script = 'bench/probot-noop-server.ts';
  return withFloor
    ? measureFloorServer(options, { script, env })
    : measureServer({ args: [script], env: { ...process.env, ...env } }, options);
}

if (process.argv.includes('--serve')) {
  await serve();
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await run(), null, 2));
}
