/**
 * Task page (DESIGN.md §7: within 2x its raw baseline): a running task with 2,000 events, opened
 * in headless chromium through the dashboard — time to first contentful paint, and from an event
 * being published to it showing in the page — against the raw `GET /tasks/:id` (the same task as
 * JSON, every event) on the same devbot in the same run.
 *
 *   npx tsx bench/task-page.bench.ts
 *
 * Needs Redis and /usr/bin/chromium (without chromium only the server-side figures are reported).
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { NewTaskEvent } from '../src/core/index.js';
import { startTestDevbot } from '../tests/helpers/test-devbot.js';
import type { BenchResult } from './lib.js';

const CHROMIUM = '/usr/bin/chromium';
const EVENTS = 2000;
const ROUNDS = Number(process.env['DEVBOT_BENCH_ITERATIONS'] ?? 7);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

export async function run(): Promise<BenchResult[]> {
  const devbot = await startTestDevbot({ handlers: { shell: async () => new Promise(() => {}) } });
  try {
    const { store, bus } = devbot.app.runtime;
    const { task } = await store.createTask({
      source: 'api',
      requester: 'alice',
      kind: 'shell',
      prompt: 'bench',
    });
    await store.markRunning(task.id);
    for (let i = 0; i < EVENTS; i += 1) {
      const event: NewTaskEvent =
        i % 3 === 0
          ? { type: 'output', data: { stream: 'stdout', text: `line ${i} ${'x'.repeat(60)}\n` } }
          : { type: 'log', data: { message: `step ${i} of the bench task` } };
      await store.appendEvent(task.id, event);
    }
    const token = devbot.api.token;
    const base = devbot.app.url;

    const timeFetch = async (path: string, headers: Record<string, string>) => {
      const times: number[] = [];
      for (let i = 0; i < ROUNDS; i += 1) {
        const started = performance.now();
        const res = await fetch(`${base}${path}`, { headers });
        await res.text();
        times.push(performance.now() - started);
      }
      return median(times);
    };
    const rawMs = await timeFetch(`/tasks/${task.id}`, { authorization: `Bearer ${token}` });
    const htmlMs = await timeFetch(`/ui/tasks/${task.id}`, { cookie: `devbot_session=${token}` });
    const results: BenchResult[] = [
      {
        name: 'task page HTML (2,000 events), server',
        unit: 'ms',
        value: round(htmlMs),
        baseline: round(rawMs),
        ratio: round(htmlMs / rawMs),
        details: { baselineIs: 'GET /tasks/:id (JSON, every event)', rounds: ROUNDS },
      },
    ];
    if (!existsSync(CHROMIUM)) return results;

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox'],
    });
    try {
      const context = await browser.newContext();
      await context.addCookies([{ name: 'devbot_session', value: token, url: base }]);
      const page = await context.newPage();
      const fcp: number[] = [];
      const live: number[] = [];
      for (let i = 0; i < ROUNDS; i += 1) {
        await page.goto(`${base}/ui/tasks/${task.id}`);
        fcp.push(
          Number(
            await page.evaluate(
              `new Promise((r) => new PerformanceObserver((l) => r(l.getEntries()[0].startTime)).observe({ type: 'paint', buffered: true }))`,
            ),
          ),
        );
        await page.locator('#live:not([hidden])').waitFor();
        const started = performance.now();
        const event = await store.appendEvent(task.id, { type: 'log', data: { message: `live ${i}` } });
        await bus.publish(event);
        await page.locator(`#timeline li[data-seq="${event.seq}"]`).waitFor();
        live.push(performance.now() - started);
      }
      const fcpMs = median(fcp);
      results.push(
        {
          name: 'task page first contentful paint (2,000 events)',
          unit: 'ms',
          value: round(fcpMs),
          baseline: round(rawMs),
          ratio: round(fcpMs / rawMs),
          target: '<= 2x raw GET /tasks/:id',
          pass: fcpMs <= 2 * rawMs,
          details: { measuredFrom: 'navigation start (browser)', rounds: ROUNDS },
        },
        {
          name: 'task page first live event',
          unit: 'ms',
          value: round(median(live)),
          details: { from: 'store append + bus publish', to: 'the event in the page timeline' },
        },
      );
    } finally {
      await browser.close();
    }
    return results;
  } finally {
    await devbot.stop();
  }
}

const round = (n: number) => Math.round(n * 100) / 100;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${JSON.stringify(await run(), null, 2)}\n`);
}
