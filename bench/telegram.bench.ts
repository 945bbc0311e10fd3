/**
 * First Telegram acknowledgement (DESIGN.md §7): time from an update reaching the bot (queued at
 * the fake Bot API, fetched by long polling) to the first status message arriving back at the fake,
 * p50/p99 over 200 updates from 200 users, while the worker runs the tasks. Baseline, same run: a
 * bare grammY bot on @grammyjs/runner that answers every message with one sendMessage.
 * Also: edit calls per task vs task events (the outbox coalescing), with the default pacing.
 *
 *   npx tsx bench/telegram.bench.ts   (needs Redis and PostgreSQL; DEVBOT_BENCH_UPDATES=200,
 *   DEVBOT_BENCH_SPACING_MS=100 i.e. 10 updates/s, DEVBOT_BENCH_BACKEND=postgres|pglite|pglite-main)
 */
import { pathToFileURL } from 'node:url';
import { run as runBot } from '@grammyjs/runner';
import { Bot } from 'grammy';
import type { TelegramModule } from '../src/app/modules/telegram-module.js';
import type { TaskHandler } from '../src/core/index.js';
import { createPgliteClient } from '../src/store/pglite-client.js';
import { FakeTelegramServer } from '../tests/fakes/telegram/index.js';
import { startTestDevbot } from '../tests/helpers/test-devbot.js';

const UPDATES = Number(process.env.DEVBOT_BENCH_UPDATES ?? 200);
/** Time between two updates (a steady stream rather than one burst). */
const SPACING_MS = Number(process.env.DEVBOT_BENCH_SPACING_MS ?? 100);
const OUTPUT_EVENTS = 8;
const FIRST_USER = 50_000;
/**
 * postgres (default: what a deployment runs), pglite (zero configuration: PGlite in its worker
 * thread, as devbot runs it) or pglite-main (PGlite on the event loop, as before issue 14).
 */
const BACKEND =
  (['pglite', 'pglite-main'] as const).find((b) => b === process.env.DEVBOT_BENCH_BACKEND) ?? 'postgres';

export interface TelegramBenchResult {
  name: string;
  unit: 'ms';
  value: number;
  p50Ms: number;
  baseline: number;
  baselineP50Ms: number;
  target: number;
  pass: boolean;
  updates: number;
  editCallsPerTask: number;
  eventsPerTask: number;
  rateLimited: number;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Sends one update per user, spaced, and measures update -> first sendMessage in that chat. */
async function measureAcks(fake: FakeTelegramServer, text: (i: number) => string): Promise<number[]> {
  const pushed = new Map<number, number>();
  const acked = new Map<number, number>();
  let allAcked: () => void = () => {};
  const done = new Promise<void>((resolve) => (allAcked = resolve));
  // Recorded as calls arrive (not by scanning the call log), so the harness costs next to nothing.
  const unsubscribe = fake.onCall((call) => {
    if (call.method !== 'sendMessage' || !call.ok || call.chatId === undefined) return;
    if (!pushed.has(call.chatId) || acked.has(call.chatId)) return;
    acked.set(call.chatId, call.at);
    if (acked.size === UPDATES) allAcked();
  });
  try {
    for (let i = 0; i < UPDATES; i++) {
      const user = FIRST_USER + i;
      pushed.set(user, Date.now());
      fake.sendUserMessage({ from: user, text: text(i) });
      await new Promise((r) => setTimeout(r, SPACING_MS));
    }
    const timeout = setTimeout(() => allAcked(), 60_000);
    await done;
    clearTimeout(timeout);
  } finally {
    unsubscribe();
  }
  return [...pushed].map(([chat, at]) => (acked.get(chat) ?? Number.NaN) - at);
}

async function poll(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`telegram bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function baseline(): Promise<number[]> {
  const fake = await new FakeTelegramServer().start();
  const bot = new Bot(fake.token, { client: { apiRoot: fake.apiRoot } });
  bot.on('message', (ctx) => ctx.reply('ack'));
  const runner = runBot(bot, { runner: { fetch: { timeout: 1 }, silent: true } });
  try {
    return await measureAcks(fake, (i) => `/sh echo ${i}`);
  } finally {
    await runner.stop();
    await fake.close();
  }
}

/** A shell handler that only emits events (no process): the bench measures the bot, not bash. */
const scriptedShell: TaskHandler = async (ctx) => {
  await ctx.emit('command.started', { command: String(ctx.task.input.command) });
  for (let i = 0; i < OUTPUT_EVENTS; i++) {
    await ctx.emit('output', { stream: 'stdout', text: `line ${i}\n` });
    await new Promise((r) => setTimeout(r, 10));
  }
  await ctx.emit('command.finished', {
    command: String(ctx.task.input.command),
    exitCode: 0,
    durationMs: 80,
  });
  return { summary: 'ok', exitCode: 0 };
};

async function devbotAcks(log: (line: string) => void) {
  const fake = await new FakeTelegramServer().start();
  const sql = BACKEND === 'postgres' ? undefined : await createPgliteClient({ thread: BACKEND === 'pglite' });
  const users = Array.from({ length: UPDATES }, (_, i) => FIRST_USER + i).join(',');
  const devbot = await startTestDevbot({
    ...(sql ? { sql } : { backend: 'postgres' }),
    env: {
      TELEGRAM_BOT_TOKEN: fake.token,
      TELEGRAM_API_ROOT: fake.apiRoot,
      TELEGRAM_ALLOWED_USER_IDS: users,
      DEVBOT_RATE_LIMIT: '100000',
      DEVBOT_CONCURRENCY: '4',
    },
    handlers: { shell: scriptedShell },
    telegram: { pollingTimeoutSeconds: 1 },
  });
  try {
    const telegram = devbot.app.modules.telegram as TelegramModule;
    await telegram.bot.ready();
    const latencies = await measureAcks(fake, (i) => `/sh echo ${i}`);
    log(`telegram bench: ${UPDATES} acknowledgements sent; waiting for every result message`);
    const isResult = (text: string) => /^(✅|❌|🚫) /.test(text);
    await poll(
      () => fake.allBotMessages().filter((m) => isResult(m.text)).length >= UPDATES,
      'every result message',
      180_000,
    );
    await telegram.outbox.idle();
    const tasks = await devbot.app.runtime.store.listTasks({ source: 'telegram', limit: 500 });
    let events = 0;
    for (const task of tasks) events += (await devbot.app.runtime.store.listEvents(task.id)).length;
    const edits = fake.callsOf('editMessageText').length;
    return {
      latencies,
      editCallsPerTask: edits / tasks.length,
      eventsPerTask: events / tasks.length,
      rateLimited: fake.calls.filter((c) => c.errorCode === 429).length,
    };
  } finally {
    await devbot.stop();
    await sql?.close();
    await fake.close();
  }
}

export async function run(
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<TelegramBenchResult> {
  const base = await baseline();
  log(
    `telegram bench: baseline p50 ${round(percentile(base, 50))} ms, p99 ${round(percentile(base, 99))} ms`,
  );
  const measured = await devbotAcks(log);
  const p99 = round(percentile(measured.latencies, 99));
  return {
    name: `telegram first acknowledgement p99 over ${UPDATES} updates (update -> status message, ${BACKEND})`,
    unit: 'ms',
    value: p99,
    p50Ms: round(percentile(measured.latencies, 50)),
    baseline: round(percentile(base, 99)),
    baselineP50Ms: round(percentile(base, 50)),
    target: 300,
    pass: p99 <= 300,
    updates: UPDATES,
    editCallsPerTask: round(measured.editCallsPerTask, 2),
    eventsPerTask: round(measured.eventsPerTask, 2),
    rateLimited: measured.rateLimited,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run().then(
    (r) => {
      console.log(JSON.stringify(r, null, 2));
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
