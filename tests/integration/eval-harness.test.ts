/**
 * `devbot eval` end to end with the scripted LLM: an in-process devbot runs the crew on a tiny
 * suite (tests/fixtures/eval-mini-suite: a shell `add.sh` that subtracts), the harness scores the
 * branch devbot committed with the hidden test laid over it. A right edit passes, a wrong one
 * fails, a task whose check passes before the crew runs is broken, `--runs 3` gives pass@1 as a
 * mean with its spread, `compare` shows the flip, a task over its timeout fails with the reason
 * and the next task still runs; and nothing the crew saw ever names or quotes a hidden file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevbotApp, startDevbot } from '../../src/app/start-devbot.js';
import { type CliContext, createCliContext } from '../../src/cli/cli-context.js';
import { evalEnv, runEvalCommand } from '../../src/cli/eval-command.js';
import { runCli } from '../../src/cli/run-cli.js';
import { loadConfig } from '../../src/config/config.js';
import type { SqlClient } from '../../src/core/sql-client.js';
import type { EvalReport } from '../../src/eval/eval-report.js';
import {
  type ScriptedLlmServer,
  type ScriptedTurn,
  startScriptedLlm,
} from '../fakes/llm/scripted-llm-server.js';
import { openTestPglite } from '../helpers/pglite-template.js';
import { captureLogger, removeDir, TEST_REDIS_URL, tempDir } from '../helpers/test-env.js';

const SUITE = fileURLToPath(new URL('../fixtures/eval-mini-suite', import.meta.url));
/** What only the hidden test holds: its file name and a marker in its content. */
const HIDDEN_NAME = 'test_sum_q8z1.sh';
const HIDDEN_MARKER = 'q8z1';
const HIDDEN_CONTENT = readFileSync(join(SUITE, 'add/hidden/tests', HIDDEN_NAME), 'utf8').trim();

let llm: ScriptedLlmServer;
let sql: SqlClient;
let dataDir: string;
/** One devbot under test for every run but the first (which starts its own, as the CLI does). */
let shared: DevbotApp;
const work = tempDir('devbot-eval-test-');

beforeAll(async () => {
  [llm, sql] = await Promise.all([startScriptedLlm(), openTestPglite()]);
  dataDir = tempDir('devbot-eval-data-');
  const config = loadConfig(
    evalEnv(context().vars, {
      dataDir: join(work, 'shared'),
      reposDir: join(work, 'shared-repos'),
      concurrency: 1,
      network: false,
      timeoutMs: 120_000,
      // The shared devbot's budget: 3 tool calls (a run here needs 2).
      extra: { DEVBOT_BUDGET_TOOL_CALLS: '3' },
    }),
  );
  await mkdir(join(work, 'shared-repos'), { recursive: true });
  shared = await startDevbot({ config, sql, reconcileIntervalMs: 0, logger: captureLogger().logger });
});

afterAll(async () => {
  await shared?.stop();
  await llm?.close();
  await sql?.close();
  removeDir(dataDir);
  removeDir(work);
});

function context(
  extra: Record<string, string> = {},
  onOut: (text: string) => void = () => {},
): CliContext & { vars: Record<string, string>; output: () => string; errors: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  const vars = {
    OPENAI_BASE_URL: llm.baseUrl,
    DEVBOT_MODEL: 'scripted',
    DEVBOT_DATA_DIR: dataDir,
    REDIS_URL: TEST_REDIS_URL,
    LOG_LEVEL: 'silent',
    ...extra,
  };
  const ctx = createCliContext(vars, work, {
    out: (t) => {
      out.push(t);
      onOut(t);
    },
    err: (t) => err.push(t),
  });
  return Object.assign(ctx, { vars, output: () => out.join(''), errors: () => err.join('') });
}

/** The crew's turns for one run: look around (`look`: everywhere), change add.sh's operator, write it up. */
function crewTurns(replace: string, look = false): ScriptedTurn[] {
  return [
    {
      match: { role: 'planner' },
      content: JSON.stringify({ steps: ['Fix add.sh'], files: ['add.sh'], verify: '' }),
    },
    // The crew looks at everything it can: the listing and a search of the whole tree.
    { match: { role: 'coder' }, toolCalls: [{ name: 'list_files', arguments: { path: '.' } }] },
    ...(look
      ? [
          {
            match: { role: 'coder', afterToolResult: true },
            toolCalls: [
              { name: 'run_command', arguments: { command: 'find . -type f | sort; cat tests/*' } },
            ],
          },
        ]
      : []),
    {
      match: { role: 'coder', afterToolResult: true },
      toolCalls: [
        {
          name: 'edit_file',
          arguments: { path: 'add.sh', search: '$(($1 - $2))', replace: `$(($1 ${replace} $2))` },
        },
      ],
    },
    { match: { role: 'coder', afterToolResult: true }, content: 'Changed the operator in add.sh.' },
    {
      match: { role: 'synthesizer' },
      content: JSON.stringify({
        summary: 'add.sh fixed.',
        steps: ['Changed the operator'],
        prTitle: 'Fix add.sh',
        prBody: 'Fixes add.sh.',
        chatReply: 'Fixed.',
      }),
    },
  ];
}

async function evalRun(
  args: { task: string[]; runs?: number; json?: string; own?: boolean },
  ctx = context(),
) {
  const own = args.own ? await openTestPglite() : null;
  try {
    await runEvalCommand(
      { suite: SUITE, task: args.task, runs: args.runs ?? 1, concurrency: 1, json: args.json },
      ctx,
      own ? { start: { sql: own } } : { app: shared },
    );
  } finally {
    await own?.close();
  }
  const text = ctx.output();
  const dir = /report: (\S+)\n/.exec(text)?.[1] as string;
  const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as EvalReport;
  return { ctx, text, dir, report };
}

const reports: string[] = [];

describe('devbot eval', () => {
  it('scores a right edit as pass, with the figures and the artifacts of the run', async () => {
    llm.load(crewTurns('+', true));
    const json = join(work, 'a.json');
    const { ctx, text, dir, report } = await evalRun({ task: ['add'], json, own: true });
    reports.push(json);
    expect(llm.errors).toEqual([]);
    expect(ctx.exitCode).toBe(0);
    const run = report.tasks[0]?.runs[0];
    expect(run).toMatchObject({
      outcome: 'pass',
      reason: null,
      taskStatus: 'succeeded',
      changed: ['add.sh'],
    });
    expect(run?.branch).toMatch(/^devbot\//);
    expect(run?.tokensIn).toBeGreaterThan(0);
    expect(run?.toolCalls).toBe(3);
    expect(run?.rounds).toBe(1);
    expect(run?.wallMs).toBeGreaterThanOrEqual((run?.pipelineMs ?? 0) + (run?.checkMs ?? 0));
    expect(report.totals.pass1.mean).toBe(1);
    // A progress line per run while it runs, then the table.
    expect(text).toMatch(/\[1\/1\] PASS add run 1\/1: [\d.]+ s \(model/);
    expect(text).toContain('| add | easy | pass |');
    expect(text).toContain('**pass@1: 100.0%**');
    // The run can be read afterwards: events, the diff, the check's output.
    const artifacts = join(dir, run?.artifacts as string);
    expect(readFileSync(join(artifacts, 'diff.patch'), 'utf8')).toContain('+echo $(($1 + $2))');
    expect(readFileSync(join(artifacts, 'check.log'), 'utf8')).toMatch(/# check: exit 0/);
    expect(readFileSync(join(artifacts, 'events.jsonl'), 'utf8')).toContain('"task.succeeded"');
    expect(readdirSync(dir).sort()).toEqual(['devbot.log', 'report.json', 'report.md', 'runs']);
    expect(JSON.parse(readFileSync(json, 'utf8'))).toEqual(report);
  }, 120_000);

  it('scores a wrong edit as fail, fails a task over its timeout with the reason and goes on; compare shows the flip', async () => {
    // a-slow (timeout 2 s): the planner's answer (if the crew gets that far) takes longer. Then
    // add, with the wrong operator: its script is loaded when the harness says it starts.
    llm.load([{ match: { role: 'planner' }, content: '{}', delayMs: 10_000 }]);
    const next = (text: string) => {
      if (text.startsWith('start  add ')) llm.load(crewTurns('*'));
    };
    const json = join(work, 'b.json');
    const { ctx, report } = await evalRun({ task: ['a-slow', 'add'], json }, context({}, next));
    reports.push(json);
    expect(llm.errors).toEqual([]);
    expect(ctx.exitCode).toBe(0); // the harness ran, whatever the pass rate
    const [slow, add] = report.tasks;
    expect(slow?.runs[0]).toMatchObject({ outcome: 'fail', taskStatus: 'cancelled' });
    expect(slow?.runs[0]?.reason).toMatch(/timed out after 2 s \(the task's timeout\)/);
    expect(add?.runs[0]).toMatchObject({ outcome: 'fail', taskStatus: 'succeeded', changed: ['add.sh'] });
    expect(add?.runs[0]?.reason).toMatch(/check `for t in .*` exited 1/);
    expect(report.totals.pass1.mean).toBe(0);

    const cmp = context();
    expect(
      await runCli(['eval', 'compare', reports[0] as string, json], { env: cmp.vars, cwd: work, io: cmp }),
    ).toBe(0);
    expect(cmp.output()).toContain('| add | 100.0% | 0.0% | regressed |');
    expect(cmp.output()).toContain('| a-slow | - | 0.0% | only-b |');
    expect(cmp.output()).toContain('pass@1: 100.0% -> 0.0% (-100.0 points)');
    // Not a report: a clear error, exit 1.
    await writeFile(join(work, 'junk.json'), '{"format":"other"}');
    const bad = context();
    expect(await runCli(['eval', 'compare', json, 'junk.json'], { env: bad.vars, cwd: work, io: bad })).toBe(
      1,
    );
    expect(bad.errors()).toMatch(/junk\.json: not a devbot eval report \(format/);
  }, 120_000);

  it('--runs 3 reports pass@1 as the mean over runs with its spread, and pass@3; over budget is a fail', async () => {
    // Run 2 reads file after file: the fourth tool call is over the budget of 3.
    const reads: ScriptedTurn[] = ['add.sh', 'README.md', 'tests/test_zero.sh', 'add.sh'].map((path) => ({
      match: { role: 'coder' },
      toolCalls: [{ name: 'read_file', arguments: { path } }],
    }));
    llm.load([...crewTurns('+'), crewTurns('+')[0] as ScriptedTurn, ...reads, ...crewTurns('+')]);
    const { report, text } = await evalRun({ task: ['add'], runs: 3 });
    expect(llm.errors).toEqual([]);
    expect(report.tasks[0]?.runs.map((r) => r.outcome)).toEqual(['pass', 'fail', 'pass']);
    expect(report.tasks[0]?.runs[1]).toMatchObject({ taskStatus: 'failed', toolCalls: 3 });
    expect(report.tasks[0]?.runs[1]?.reason).toMatch(/failed: budget exceeded: 3 of 3 tool calls used/);
    expect(report.totals.pass1.perRun).toEqual([1, 0, 1]);
    expect(report.totals.pass1.mean).toBeCloseTo(2 / 3);
    expect(report.totals).toMatchObject({ passN: 1, runsPerTask: 3 });
    expect(report.totals.pass1).toMatchObject({ min: 0, max: 1 });
    expect(text).toContain('| add | easy | pass FAIL pass |');
    expect(text).toMatch(
      /pass@1: 66\.7%\*\* \(mean over 3 runs: 100\.0%, 0\.0%, 100\.0%; spread 0\.0%–100\.0%, sd 47\.1 points\)/,
    );
    expect(text).toContain('pass@3: 100.0%');
  }, 120_000);

  it('reports a task whose check passes before the crew runs as broken, exits 1 and runs no crew', async () => {
    llm.load([]);
    const before = llm.requests.length;
    const { ctx, report } = await evalRun({ task: ['broken'] });
    expect(ctx.exitCode).toBe(1);
    expect(ctx.errors()).toMatch(/1 broken task \(broken\): `check` passes before the crew runs/);
    expect(report.tasks[0]).toMatchObject({ id: 'broken', status: 'broken', runs: [] });
    expect(report.totals.broken).toBe(1);
    expect(llm.requests.length).toBe(before);
  }, 120_000);

  it('refuses to run without an LLM, and a suite problem, with exit 1', async () => {
    const none = context({ OPENAI_BASE_URL: '' });
    expect(await runCli(['eval', '--suite', SUITE], { env: none.vars, cwd: work, io: none })).toBe(1);
    expect(none.errors()).toMatch(/no LLM configured: set OPENAI_BASE_URL/);
    const missing = context();
    expect(
      await runCli(['eval', '--suite', SUITE, '--task', 'nope-*'], {
        env: missing.vars,
        cwd: work,
        io: missing,
      }),
    ).toBe(1);
    expect(missing.errors()).toMatch(/no task in .* matches 'nope-\*'/);
    const zero = context();
    expect(await runCli(['eval', '--runs', '0'], { env: zero.vars, cwd: work, io: zero })).toBe(2);
    expect(zero.errors()).toMatch(/--runs must be a whole number from 1 to 100/);
  });

  it('never lets the crew see a hidden file: no prompt, tool result or listing names or quotes one', () => {
    const coder = llm.requests.filter((r) => r.role === 'coder');
    expect(coder.length).toBeGreaterThan(10);
    // The crew did look: its listing and its `find` are in what the model was sent.
    const seen = JSON.stringify(llm.requests.map((r) => r.body));
    expect(seen).toContain('test_zero.sh');
    for (const secret of [HIDDEN_NAME, HIDDEN_MARKER, HIDDEN_CONTENT.split('\n')[1] as string])
      expect(seen).not.toContain(secret);
    expect(JSON.stringify(llm.embeddingRequests)).not.toContain(HIDDEN_MARKER);
    // Nor any event of any task (tool results, commands and their output, logs).
    const runsDir = join(dataDir, 'eval');
    for (const stamp of readdirSync(runsDir))
      for (const task of readdirSync(join(runsDir, stamp, 'runs'), { withFileTypes: true }))
        for (const run of readdirSync(join(runsDir, stamp, 'runs', task.name)))
          if (run.startsWith('run-')) {
            const events = readFileSync(join(runsDir, stamp, 'runs', task.name, run, 'events.jsonl'), 'utf8');
            expect(events).not.toContain(HIDDEN_MARKER);
          }
  });
});
