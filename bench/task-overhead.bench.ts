/**
 * Task overhead (DESIGN.md §7): a dev task on the small repository with a zero-latency scripted LLM
 * (10 tool calls, one failing check round, then passing), from request to pushed branch, against
 * the sum of its unavoidable git operations (fetch, commit, push) measured in the same run.
 * Reports the share of time per phase (route, sandbox, llm+tools, tests, git, reporting).
 *
 *   npx tsx bench/task-overhead.bench.ts
 *
 * Not yet through the front door: the GitHub repo pipeline (src/github) that opens the PR was not
 * available when this was written, so "PR opened" is approximated by the push; git runs as plain
 * commands against a local bare repository, and the sandbox is the directory stand-in.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { runCrew } from '../agents/crew/run-crew.js';
import { createLlmClient } from '../agents/llm/llm-client.js';
import { IntentRouter } from '../agents/router/intent-router.js';
import type { TaskEvent } from '../src/core/index.js';
import { createDirSandbox } from '../tests/fakes/llm/dir-sandbox.js';
import { createRecordingContext, makeTask } from '../tests/fakes/llm/recording-context.js';
import { type ScriptedTurn, startScriptedLlm } from '../tests/fakes/llm/scripted-llm-server.js';

const run$ = promisify(execFile);
const SMALL_REPO = fileURLToPath(new URL('../tests/fixtures/small-repo', import.meta.url));
const ITERATIONS = Number(process.env['DEVBOT_BENCH_ITERATIONS'] ?? 5);
const LIMITS = { tokens: 1_000_000, costUsd: 10, toolCalls: 60, wallMs: 120_000 };
const FILE = 'src/slugify.js';

/** 10 tool calls: explore, a partial fix, the failing check, the full fix. */
function scenario(): ScriptedTurn[] {
  const call = (name: string, args: Record<string, unknown>): ScriptedTurn => ({
    match: { role: 'coder' },
    toolCalls: [{ name, arguments: args }],
  });
  return [
    {
      match: { role: 'planner' },
      content: '{"steps":["fix slugify"],"files":["src/slugify.js"],"verify":"node --test"}',
    },
    call('list_files', { path: '.' }),
    call('read_file', { path: 'AGENTS.md' }),
    call('read_file', { path: FILE }),
    call('grep', { pattern: 'slugify' }),
    call('read_file', { path: 'test/slugify.test.js' }),
    call('edit_file', {
      path: FILE,
      search: "text.replace(/[^A-Za-z0-9]+/g, '-')",
      replace: "text.toLowerCase().replace(/[^a-z0-9]+/g, '-')",
    }),
    call('read_file', { path: FILE }),
    { match: { role: 'coder' }, content: 'lower-cased' },
    call('read_file', { path: FILE, start_line: 1, end_line: 4 }),
    call('edit_file', {
      path: FILE,
      search: ".replace(/[^a-z0-9]+/g, '-')",
      replace: ".replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '')",
    }),
    call('run_command', { command: 'node --test test/' }),
    { match: { role: 'coder' }, content: 'trimmed' },
    {
      match: { role: 'synthesizer' },
      content: '{"summary":"s","steps":[],"prTitle":"Fix slugify","prBody":"b","chatReply":"done"}',
    },
  ];
}

async function git(cwd: string, ...args: string[]): Promise<number> {
  const started = performance.now();
  await run$('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@localhost', ...args], { cwd });
  return performance.now() - started;
}

interface Sample {
  totalMs: number;
  gitMs: number;
  phases: Record<string, number>;
}

async function once(remote: string, llmBase: string, load: (t: ScriptedTurn[]) => void): Promise<Sample> {
  const phases: Record<string, number> = {
    route: 0,
    sandbox: 0,
    llmAndTools: 0,
    tests: 0,
    git: 0,
    reporting: 0,
  };
  const work = await mkdtemp(join(tmpdir(), 'devbot-bench-'));
  load(scenario());
  const started = performance.now();
  let t = performance.now();
  const task = makeTask({ prompt: '/new_task slugify is broken', kind: 'auto' });
  const router = new IntentRouter({ llm: null, limits: LIMITS });
  await router.route(task, new AbortController().signal);
  phases['route'] = performance.now() - t;

  // git: fetch the repository (a clone here: the mirror cache is the GitHub module's business).
  const fetchMs = await git(work, 'clone', '-q', remote, 'checkout');
  const checkout = join(work, 'checkout');

  t = performance.now();
  const sandbox = await createDirSandbox(checkout);
  phases['sandbox'] = performance.now() - t;

  const ctx = createRecordingContext(task);
  const reportingStart = new Map<number, number>();
  let reportingMs = 0;
  const emit = ctx.emit;
  ctx.emit = async (type, data) => {
    const s = performance.now();
    const event: TaskEvent = await emit(type, data);
    reportingMs += performance.now() - s;
    reportingStart.set(event.seq, s);
    return event;
  };
  const client = createLlmClient({ OPENAI_BASE_URL: llmBase, DEVBOT_MODEL: 'scripted' }, { maxRetries: 0 });
  t = performance.now();
  const { result } = await runCrew({ ctx, sandbox, llm: client, limits: LIMITS, preview: false });
  const crewMs = performance.now() - t;
  if (result.status !== 'succeeded')
    throw new Error(`the bench task did not succeed: ${JSON.stringify(result)}`);
  const testsMs = ctx.events
    .filter((e) => e.type === 'command.finished')
    .reduce((sum, e) => sum + Number(e.data['durationMs'] ?? 0), 0);
  phases['tests'] = testsMs;
  phases['reporting'] = reportingMs;
  phases['llmAndTools'] = crewMs - testsMs - reportingMs;

  // Changes back, commit, push.
  t = performance.now();
  await run$('cp', ['-r', `${sandbox.workdir}/.`, checkout]);
  const copyMs = performance.now() - t;
  const commitMs = await git(checkout, 'commit', '-qam', result.prTitle);
  const pushMs = await git(checkout, 'push', '-q', 'origin', `HEAD:refs/heads/devbot/bench-${task.id}`);
  phases['git'] = fetchMs + commitMs + pushMs;
  phases['sandbox'] = (phases['sandbox'] ?? 0) + copyMs;
  const totalMs = performance.now() - started;
  await sandbox.close();
  await rm(work, { recursive: true, force: true });
  return { totalMs, gitMs: fetchMs + commitMs + pushMs, phases };
}

export async function run(): Promise<Record<string, unknown>> {
  const root = await mkdtemp(join(tmpdir(), 'devbot-bench-remote-'));
  const remote = join(root, 'small-repo.git');
  const seed = join(root, 'seed');
  await run$('cp', ['-r', SMALL_REPO, seed]);
  await git(seed, 'init', '-q', '-b', 'main');
  await git(seed, 'add', '-A');
  await git(seed, 'commit', '-qm', 'seed');
  await git(root, 'clone', '-q', '--bare', seed, remote);
  const llm = await startScriptedLlm();
  try {
    await once(remote, llm.baseUrl, (t) => llm.load(t)); // warm-up
    const samples: Sample[] = [];
    for (let i = 0; i < ITERATIONS; i++) samples.push(await once(remote, llm.baseUrl, (t) => llm.load(t)));
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    const total = median(samples.map((s) => s.totalMs));
    const gitSum = median(samples.map((s) => s.gitMs));
    const nonTest = median(samples.map((s) => s.totalMs - (s.phases['tests'] ?? 0)));
    const phaseNames = Object.keys(samples[0]?.phases ?? {});
    const share = Object.fromEntries(
      phaseNames.map((p) => [
        p,
        Math.round((median(samples.map((s) => s.phases[p] ?? 0)) / total) * 1000) / 10,
      ]),
    );
    return {
      name: 'task overhead (dev task, zero-latency scripted LLM, 10 tool calls)',
      unit: 'ms (median)',
      value: Math.round(total),
      baseline: Math.round(gitSum),
      ratio: Math.round((total / gitSum) * 100) / 100,
      ratioExcludingTestRuns: Math.round((nonTest / gitSum) * 100) / 100,
      target: 1.5,
      pass: total / gitSum <= 1.5,
      iterations: ITERATIONS,
      sharePercent: share,
      toolCallsPerTask: 10,
      llmRequestsPerTask: 14,
      note: 'request -> pushed branch (PR API call not included: the GitHub repo pipeline was not available); the real test command runs twice (failing, then passing) and is counted in the total',
    };
  } finally {
    await llm.close();
    await rm(root, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run().then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
