/**
 * Eval harness overhead (DESIGN.md §7: under 10 % of a task's wall time): `devbot eval` on the
 * shipped smoke subset (eval/tasks, `smoke-*`), through the whole command (its own in-process
 * devbot, embedded PGlite, local bubblewrap sandboxes), with a zero-latency scripted LLM whose
 * coder writes each task's reference solution (tests/fixtures/eval-solutions) and stops. Every
 * run must pass. Reported per run: wall time, devbot's own time for the task (pipeline), model
 * time, check time, and the harness's own time (wall - pipeline - check) with its share.
 *
 *   npx tsx bench/eval-harness.bench.ts        (or: npm run bench -- eval-harness)
 *
 * With a zero-latency model the share is the worst case: a real model's minutes dilute it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createCliContext } from '../src/cli/cli-context.js';
import { runEvalCommand } from '../src/cli/eval-command.js';
import type { EvalReport } from '../src/eval/eval-report.js';
import { type ScriptedTurn, startScriptedLlm } from '../tests/fakes/llm/scripted-llm-server.js';
import { removeDir, TEST_REDIS_URL, tempDir } from '../tests/helpers/test-env.js';

const SUITE = fileURLToPath(new URL('../eval/tasks', import.meta.url));
const SOLUTIONS = fileURLToPath(new URL('../tests/fixtures/eval-solutions', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

/** The crew's turns for one task: plan, write the reference solution, stop, write up. */
function solutionTurns(taskId: string): ScriptedTurn[] {
  const dir = join(SOLUTIONS, taskId);
  const writes = files(dir)
    .filter((f) => !f.endsWith('.eval-delete'))
    .map((f) => ({
      name: 'write_file',
      arguments: { path: relative(dir, f), content: readFileSync(f, 'utf8') },
    }));
  return [
    {
      match: { role: 'planner' },
      content: JSON.stringify({ steps: ['Apply the fix'], files: [], verify: '' }),
    },
    { match: { role: 'coder' }, toolCalls: writes },
    { match: { role: 'coder', afterToolResult: true }, content: 'Done.' },
    {
      match: { role: 'synthesizer' },
      content: JSON.stringify({
        summary: 'Fixed.',
        steps: [],
        prTitle: 'Fix',
        prBody: 'Fix.',
        chatReply: 'Fixed.',
      }),
    },
  ];
}

export async function run(): Promise<unknown> {
  const llm = await startScriptedLlm();
  const dataDir = tempDir('devbot-eval-bench-');
  let text = '';
  try {
    const ctx = createCliContext(
      {
        OPENAI_BASE_URL: llm.baseUrl,
        DEVBOT_MODEL: 'scripted',
        DEVBOT_DATA_DIR: dataDir,
        REDIS_URL: process.env['REDIS_URL'] ?? TEST_REDIS_URL,
        LOG_LEVEL: 'warn',
      },
      dataDir,
      {
        out: (t) => {
          text += t;
          const start = /^start {2}(\S+) run/.exec(t);
          if (start?.[1]) llm.load(solutionTurns(start[1]));
        },
        err: (t) => process.stderr.write(t),
      },
    );
    const started = performance.now();
    await runEvalCommand({ suite: SUITE, task: ['smoke-*'], runs: 1, concurrency: 1 }, ctx);
    const commandMs = Math.round(performance.now() - started);
    const dir = /report: (\S+)\n/.exec(text)?.[1] as string;
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as EvalReport;
    if (llm.errors.length > 0) throw new Error(`scripted LLM: ${llm.errors.join('; ')}`);
    const runs = report.tasks.flatMap((t) =>
      t.runs.map((r) => ({
        task: t.id,
        outcome: r.outcome,
        ...(r.reason ? { reason: r.reason } : {}),
        wallMs: r.wallMs,
        pipelineMs: r.pipelineMs,
        modelMs: r.modelMs,
        checkMs: r.checkMs,
        harnessMs: r.harnessMs,
        harnessShare: Number((r.harnessMs / r.wallMs).toFixed(3)),
        precheckMs: t.precheck.ms,
        phases: r.phases,
      })),
    );
    if (runs.some((r) => r.outcome !== 'pass'))
      throw new Error(`a smoke run did not pass: ${JSON.stringify(runs)}`);
    return {
      commandMs,
      runs,
      medianHarnessShare: Number(report.totals.harness.medianShare.toFixed(3)),
      maxHarnessShare: Number(report.totals.harness.maxShare.toFixed(3)),
      targetShare: 0.1,
      table: report.tasks.length,
    };
  } finally {
    await llm.close();
    removeDir(dataDir);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await run(), null, 2));
  process.exit(0);
}
