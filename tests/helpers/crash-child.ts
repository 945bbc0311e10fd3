/**
 * A devbot process for the crash test: the real app, plus a `question` handler that records each
 * run in a file and takes a while, so the test can kill -9 the process in the middle of a task.
 */
import { appendFileSync } from 'node:fs';
import { z } from 'zod';
import { startDevbot } from '../../src/app/start-devbot.js';
import { loadConfig } from '../../src/config/config.js';
import { TASK_INPUT_SCHEMAS, type TaskHandler } from '../../src/core/index.js';

const runLog = process.env['CRASH_RUN_LOG'] ?? '/dev/null';

const slow: TaskHandler = async (ctx) => {
  appendFileSync(runLog, `start ${ctx.task.id}\n`);
  await ctx.emit('step', { phase: 'working', message: 'Working' });
  const ms = Number((ctx.task.input as { sleepMs?: number }).sleepMs ?? 1000);
  await new Promise((resolve) => setTimeout(resolve, ms));
  appendFileSync(runLog, `end ${ctx.task.id}\n`);
  return { summary: 'slow work done' };
};

const app = await startDevbot({
  config: loadConfig(process.env),
  // `sleepMs` is the stand-in's own input key: it registers it with itself.
  handlers: {
    question: {
      handle: slow,
      input: TASK_INPUT_SCHEMAS.question.extend({ sleepMs: z.number().int().min(0).optional() }),
    },
  },
  reconcileIntervalMs: 0,
  shutdownGraceMs: 100,
});
process.stdout.write(`READY ${app.url}\n`);
process.on('SIGTERM', () => {
  void app.stop().then(() => process.exit(0));
});
