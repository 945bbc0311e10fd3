/**
 * Local sandbox start cost (DESIGN.md §7): create + first command (`true`), and create + `true` +
 * close, p50/p99, against a bare `child_process.spawn('true')` measured interleaved in the same
 * run. Target: create + first command within 3x the bare spawn. Needs root and bubblewrap.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSandboxProvider } from '../sandbox/local/local-sandbox-provider.js';
import type { BenchResult } from './lib.js';

const ROUNDS = 40;

function spawnTrue(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('true', [], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', () => resolve());
  });
}

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

export async function run(): Promise<BenchResult> {
  const baseDir = await mkdtemp(join(tmpdir(), 'devbot-bench-sbx-'));
  const previews = { publish: () => 'http://127.0.0.1/preview/x/', unpublishSandbox: () => {} };
  const warm = new LocalSandboxProvider({ baseDir: join(baseDir, 'warm'), previews, warm: 1 });
  const cold = new LocalSandboxProvider({ baseDir: join(baseDir, 'cold'), previews, warm: 0 });
  const bare: number[] = [];
  const firstCommand: number[] = [];
  const withClose: number[] = [];
  const coldWithClose: number[] = [];
  try {
    await warm.warmUp();
    await cold.check();
    for (let i = 0; i < 5; i++) await spawnTrue();
    for (let i = 0; i < ROUNDS; i++) {
      let t = performance.now();
      await spawnTrue();
      bare.push(performance.now() - t);

      // The pool refills between requests (untimed), as it does between tasks.
      await warm.warmUp();
      t = performance.now();
      const sandbox = await warm.create({ taskId: `bench-${i}` });
      await sandbox.exec('true');
      firstCommand.push(performance.now() - t);
      await sandbox.close();
      withClose.push(performance.now() - t);

      if (i % 4 === 0) {
        t = performance.now();
        const c = await cold.create({ taskId: `bench-cold-${i}` });
        await c.exec('true');
        await c.close();
        coldWithClose.push(performance.now() - t);
      }
    }
  } finally {
    await warm.close();
    await cold.close();
    await rm(baseDir, { recursive: true, force: true });
  }
  const value = pct(firstCommand, 50);
  const baseline = pct(bare, 50);
  const ratio = value / baseline;
  return {
    name: 'sandbox_create_first_command_p50',
    unit: 'ms',
    value: round2(value),
    baseline: round2(baseline),
    ratio: round2(ratio),
    target: '<= 3x bare spawn(true)',
    pass: ratio <= 3,
    details: {
      rounds: ROUNDS,
      createFirstCommand: { p50: round2(value), p99: round2(pct(firstCommand, 99)) },
      createTrueClose: { p50: round2(pct(withClose, 50)), p99: round2(pct(withClose, 99)) },
      coldCreateTrueClose: { p50: round2(pct(coldWithClose, 50)), p99: round2(pct(coldWithClose, 99)) },
      bareSpawnTrue: { p50: round2(baseline), p99: round2(pct(bare, 99)) },
      note: 'warm pool of 1 (the default); cold = pool disabled, pays bwrap + python supervisor start',
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run().then(
    (r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`),
    (err) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
