/**
 * The eval harness (issue 19): runs each task of a suite through devbot's real dev pipeline and
 * scores the result with the task's hidden tests.
 *
 * For every task it first checks the task is not broken (`check` must fail on repo/ + hidden/),
 * then for every run: commits repo/ as the first commit of a fresh local repository, submits a
 * `dev` task for `local/<name>` to the devbot under test (the `EvalPipeline`: in production an
 * in-process devbot, see src/cli/eval-command.ts), waits for it within the task's timeout, and
 * scores the branch devbot committed: its tree with hidden/ laid over it, in a fresh sandbox,
 * where `setup` and `check` run. hidden/ is read only here, for the broken check and for scoring,
 * and only ever copied into those two sandboxes: never into the repository, the crew's sandbox or
 * anything the crew's prompts are built from.
 *
 * Every run leaves its task events, its diff and the check's output under the report folder.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  errorMessage,
  isTerminal,
  isTerminalEvent,
  type Sandbox,
  type SandboxProvider,
  type Task,
  type TaskEvent,
} from '../core/index.js';
import { runGit } from '../git/run-git.js';
import {
  computeTotals,
  type EvalReport,
  REPORT_FORMAT,
  type RunRecord,
  type TaskRecord,
} from './eval-report.js';
import type { EvalTask } from './load-suite.js';

/** The devbot under test, as the harness uses it. */
export interface EvalPipeline {
  /** The devbot's DEVBOT_REPOS_DIR: `local/<name>` is `<reposDir>/<name>`. */
  readonly reposDir: string;
  /** Sandboxes for the broken check and for scoring (never the crew's: devbot makes its own). */
  readonly sandboxes: SandboxProvider;
  /** Submits a `dev` task through devbot's ingress; returns its id. */
  submitDev(input: { repo: string; prompt: string; idempotencyKey: string }): Promise<string>;
  getTask(id: string): Promise<Task | null>;
  listEvents(id: string): Promise<TaskEvent[]>;
  /** Live events of a task after `afterSeq`, until the signal aborts. */
  tail(id: string, afterSeq: number, signal: AbortSignal): AsyncIterable<TaskEvent>;
  cancel(id: string, reason: string): Promise<void>;
}

export interface RunEvalOptions {
  tasks: readonly EvalTask[];
  pipeline: EvalPipeline;
  /** Where the JSON, the table and each run's artifacts go (created). */
  reportDir: string;
  suite: string;
  selection: readonly string[];
  model: string;
  runs: number;
  concurrency: number;
  /** One progress line at a time (no newline). */
  progress(line: string): void;
  /** Extra time a check gets when the crew used up the task's timeout (default 60 s). */
  minCheckMs?: number;
}

export interface EvalOutcome {
  report: EvalReport;
  /** Tasks whose `check` passed before the crew ran: the harness refuses to run the suite. */
  broken: string[];
}

const GIT_IDENTITY = ['-c', 'user.name=devbot eval', '-c', 'user.email=eval@devbot.invalid'];

/**
 * Bookkeeping that need not hold up a run's score (writing its events and diff, closing a scoring
 * sandbox): it runs beside the next steps and is awaited before the report is made.
 */
type Later = (work: Promise<unknown>) => void;

/** Runs the suite; broken tasks stop it before any crew runs (nothing is spent on a bad suite). */
export async function runEval(o: RunEvalOptions): Promise<EvalOutcome> {
  const startedAt = new Date();
  const pending: Promise<unknown>[] = [];
  const later: Later = (work) => {
    pending.push(work.catch(() => {}));
  };
  await mkdir(o.reportDir, { recursive: true });
  const records = new Map<string, TaskRecord>();
  for (const task of o.tasks)
    records.set(task.id, {
      id: task.id,
      difficulty: task.difficulty,
      tags: task.tags,
      status: 'ran',
      precheck: { ms: 0, exitCode: null, detail: '' },
      runs: [],
    });

  // 1. Broken tasks: `check` must fail on repo/ + hidden/ before the crew does anything.
  await pool(o.tasks, o.concurrency, async (task) => {
    const record = records.get(task.id) as TaskRecord;
    record.precheck = await precheck(o, task, later);
    if (record.precheck.exitCode === 0) record.status = 'broken';
  });
  const broken = o.tasks.filter((t) => records.get(t.id)?.status === 'broken').map((t) => t.id);
  for (const id of broken)
    o.progress(`BROKEN ${id}: \`check\` already passes on repo/ + hidden/ before the crew runs`);

  // 2. The runs, task-major so the first results come early.
  if (broken.length === 0) {
    const jobs = o.tasks.flatMap((task) => Array.from({ length: o.runs }, (_, i) => ({ task, run: i + 1 })));
    // A run's repository is made while the run before it works (it waits for nothing else).
    const repos = new Map<number, Promise<void>>();
    const repository = (index: number): Promise<void> => {
      const job = jobs[index];
      if (!job) return Promise.resolve();
      let made = repos.get(index);
      if (!made) {
        made = createRepository(job.task.repoDir, join(o.pipeline.reposDir, repoName(job.task, job.run)));
        made.catch(() => {}); // awaited (and reported) by its own run
        repos.set(index, made);
      }
      return made;
    };
    let finished = 0;
    let nextIndex = 0;
    await pool(jobs, o.concurrency, async ({ task, run }) => {
      const index = nextIndex++;
      o.progress(`start  ${task.id} run ${run}/${o.runs}`);
      const record = await runOnce(o, task, run, later, {
        ready: () => repository(index),
        submitted: () => void repository(index + o.concurrency),
      });
      (records.get(task.id) as TaskRecord).runs.push(record);
      finished += 1;
      o.progress(`[${finished}/${jobs.length}] ${progressLine(task.id, record, o.runs)}`);
    });
  }

  await Promise.all(pending);
  const tasks = o.tasks.map((t) => {
    const r = records.get(t.id) as TaskRecord;
    r.runs.sort((a, b) => a.run - b.run);
    return r;
  });
  const report: EvalReport = {
    format: REPORT_FORMAT,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    suite: o.suite,
    model: o.model,
    runsPerTask: o.runs,
    concurrency: o.concurrency,
    selection: [...o.selection],
    tasks,
    totals: computeTotals(tasks, o.runs),
  };
  return { report, broken };
}

function progressLine(id: string, r: RunRecord, runs: number): string {
  const word = r.outcome === 'pass' ? 'PASS' : r.outcome === 'fail' ? 'FAIL' : 'ERROR';
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const facts = [
    `${s(r.wallMs)} (model ${s(r.modelMs)}, check ${s(r.checkMs)}, harness ${s(r.harnessMs)})`,
    `${r.tokensIn}/${r.tokensOut} tokens`,
    `$${r.costUsd.toFixed(4)}`,
    `${r.toolCalls} tool calls`,
    ...(r.rounds !== null ? [`${r.rounds} round${r.rounds === 1 ? '' : 's'}`] : []),
  ].join(', ');
  return `${word} ${id} run ${r.run}/${runs}: ${facts}${r.reason ? ` — ${oneLine(r.reason)}` : ''}`;
}

/** Runs `check` (after `setup`) on repo/ + hidden/: exit 0 means the task is broken. */
async function precheck(o: RunEvalOptions, task: EvalTask, later: Later): Promise<TaskRecord['precheck']> {
  const started = performance.now();
  const tree = await mkdtemp(join(tmpdir(), 'devbot-eval-precheck-'));
  try {
    await cp(task.repoDir, tree, { recursive: true });
    if (task.hiddenDir) await cp(task.hiddenDir, tree, { recursive: true, force: true });
    const scored = await scoreTree(
      o.pipeline.sandboxes,
      task,
      tree,
      `eval-${task.id}-precheck`,
      timeoutOf(task),
      later,
    );
    const dir = join(o.reportDir, 'runs', task.id);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'precheck.log'), scored.log);
    return {
      ms: Math.round(performance.now() - started),
      exitCode: scored.setupFailed ? null : scored.exitCode,
      detail: scored.setupFailed
        ? `setup failed before the check could run: ${scored.reason}`
        : `check exited ${scored.exitCode} on repo/ + hidden/${scored.exitCode === 0 ? ' (it must fail before the crew works)' : ''}`,
    };
  } finally {
    await rm(tree, { recursive: true, force: true });
  }
}

const timeoutOf = (task: EvalTask) => task.timeoutSeconds * 1000;

/** One run of one task: the repository, devbot's dev task, the score. */
/** `local/<name>` of a run: each run its own repository (and so its own memories in devbot). */
function repoName(task: EvalTask, run: number): string {
  return run === 1 ? task.id : `${task.id}.run${run}`;
}

async function runOnce(
  o: RunEvalOptions,
  task: EvalTask,
  run: number,
  later: Later,
  repo: { ready(): Promise<void>; submitted(): void },
): Promise<RunRecord> {
  const started = performance.now();
  const deadline = Date.now() + timeoutOf(task);
  const name = repoName(task, run);
  const artifactsRel = join('runs', task.id, `run-${run}`);
  const artifacts = join(o.reportDir, artifactsRel);
  await mkdir(artifacts, { recursive: true });
  const record: RunRecord = {
    run,
    outcome: 'error',
    reason: null,
    taskId: null,
    taskStatus: null,
    branch: null,
    changed: [],
    wallMs: 0,
    pipelineMs: 0,
    modelMs: 0,
    checkMs: 0,
    harnessMs: 0,
    tokensIn: 0,
    tokensOut: 0,
    costUsd: 0,
    toolCalls: 0,
    llmRequests: 0,
    rounds: null,
    checkExitCode: null,
    preview: null,
    artifacts: artifactsRel,
    phases: {},
  };
  const repoPath = join(o.pipeline.reposDir, name);
  // Where the wall time goes, step by step (the harness's own steps and devbot's task).
  let lapStarted = started;
  const lap = (phase: string) => {
    const now = performance.now();
    record.phases[phase] = (record.phases[phase] ?? 0) + Math.round(now - lapStarted);
    lapStarted = now;
  };
  try {
    await repo.ready();
    lap('repository');
    const id = await o.pipeline.submitDev({
      repo: `local/${name}`,
      prompt: task.prompt,
      idempotencyKey: `eval:${o.reportDir}:${task.id}:${run}`,
    });
    record.taskId = id;
    lap('submit');
    repo.submitted();
    const { task: done, timedOut } = await waitForEnd(o.pipeline, id, deadline);
    lap('task');
    if (done?.finishedAt) record.phases['noticed'] = Math.max(0, Date.now() - done.finishedAt.getTime());
    later(
      o.pipeline
        .listEvents(id)
        .then((events) =>
          writeFile(
            join(artifacts, 'events.jsonl'),
            events.map((e) => JSON.stringify(e)).join('\n') + (events.length ? '\n' : ''),
          ),
        ),
    );
    if (done) {
      record.taskStatus = done.status;
      record.branch = done.branch;
      record.changed = done.result?.changed ?? [];
      record.rounds = done.result?.rounds ?? null;
      record.tokensIn = done.usage.tokensIn ?? 0;
      record.tokensOut = done.usage.tokensOut ?? 0;
      record.costUsd = done.usage.costUsd ?? 0;
      record.modelMs = done.usage.llmMs ?? 0;
      record.toolCalls = done.usage.toolCalls ?? 0;
      record.llmRequests = done.usage.llmRequests ?? 0;
      record.pipelineMs = done.finishedAt ? done.finishedAt.getTime() - done.createdAt.getTime() : 0;
      later(writeFile(join(artifacts, 'task.json'), `${JSON.stringify(done, null, 2)}\n`));
    }
    if (timedOut) {
      record.outcome = 'fail';
      record.reason = `timed out after ${task.timeoutSeconds} s (the task's timeout); the task was cancelled`;
    } else if (done?.status !== 'succeeded') {
      record.outcome = 'fail';
      record.reason = `devbot's task ${done?.status ?? 'vanished'}: ${done?.error ?? 'no error recorded'}`;
    } else {
      const ref = done.branch ?? (await defaultBranch(repoPath));
      later(
        gitOut(repoPath, ['diff', `main...${ref}`]).then((diff) =>
          writeFile(join(artifacts, 'diff.patch'), diff),
        ),
      );
      lap('artifacts');
      const tree = await mkdtemp(join(tmpdir(), 'devbot-eval-score-'));
      try {
        await exportTree(repoPath, ref, tree);
        if (task.hiddenDir) await cp(task.hiddenDir, tree, { recursive: true, force: true });
        lap('export');
        const remaining = Math.max(deadline - Date.now(), o.minCheckMs ?? 60_000);
        const scored = await scoreTree(
          o.pipeline.sandboxes,
          task,
          tree,
          `eval-${task.id}-r${run}-check`,
          remaining,
          later,
        );
        lap('score');
        record.checkExitCode = scored.exitCode;
        record.checkMs = scored.ms;
        later(writeFile(join(artifacts, 'check.log'), scored.log));
        if (scored.setupFailed) {
          record.outcome = 'error';
          record.reason = `setup failed, the run could not be scored: ${scored.reason}`;
        } else if (scored.exitCode === 0) {
          record.outcome = 'pass';
        } else {
          record.outcome = 'fail';
          record.reason = scored.reason;
        }
      } finally {
        later(rm(tree, { recursive: true, force: true }));
      }
      if (task.preview) record.preview = await checkPreview(task.preview, done);
    }
  } catch (err) {
    record.outcome = 'error';
    record.reason = `the harness could not run it: ${errorMessage(err)}`;
  } finally {
    record.wallMs = Math.round(performance.now() - started);
    record.harnessMs = Math.max(0, record.wallMs - record.pipelineMs - record.checkMs);
    later(writeFile(join(artifacts, 'run.json'), `${JSON.stringify(record, null, 2)}\n`));
  }
  return record;
}

/** repo/ committed as the first commit of a fresh repository on `main` (replacing any old one). */
export async function createRepository(source: string, path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
  await cp(source, path, { recursive: true });
  await runGit(['init', '-q', '-b', 'main'], { cwd: path });
  await runGit(['add', '-A'], { cwd: path });
  await runGit(
    [...GIT_IDENTITY, '-c', 'commit.gpgsign=false', 'commit', '-q', '--no-verify', '-m', 'The repository'],
    { cwd: path },
  );
}

async function defaultBranch(repo: string): Promise<string> {
  return (await runGit(['symbolic-ref', '--short', 'HEAD'], { cwd: repo })).trim();
}

async function gitOut(repo: string, args: string[]): Promise<string> {
  return runGit(args, { cwd: repo }).catch(
    (err: unknown) => `(git ${args.join(' ')} failed: ${errorMessage(err)})\n`,
  );
}

/** The tree of `ref` (not the working tree: devbot commits on a branch) into `dir`. */
function exportTree(repo: string, ref: string, dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const git = spawn('git', ['-C', repo, 'archive', '--format=tar', ref], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tar = spawn('tar', ['-x', '-C', dir], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    git.stderr.on('data', (c) => {
      stderr += String(c);
    });
    tar.stderr.on('data', (c) => {
      stderr += String(c);
    });
    git.stdout.pipe(tar.stdin);
    let gitCode: number | null = null;
    git.on('close', (code) => {
      gitCode = code;
    });
    git.on('error', reject);
    tar.on('error', reject);
    tar.on('close', (code) => {
      if (code === 0 && gitCode === 0) resolve();
      else
        reject(
          new Error(`could not export ${ref} of ${repo}: ${stderr.trim() || `exit ${gitCode}/${code}`}`),
        );
    });
  });
}

interface Scored {
  exitCode: number | null;
  /** Time in `setup` and `check` themselves (not the sandbox's creation). */
  ms: number;
  setupFailed: boolean;
  reason: string | null;
  log: string;
}

/** Runs the task's setup and check on `tree` in a fresh sandbox. */
async function scoreTree(
  sandboxes: SandboxProvider,
  task: EvalTask,
  tree: string,
  sandboxId: string,
  timeoutMs: number,
  later: Later,
): Promise<Scored> {
  const until = Date.now() + timeoutMs;
  let sandbox: Sandbox | null = null;
  const log: string[] = [];
  let ms = 0;
  try {
    sandbox = await sandboxes.create({
      taskId: sandboxId,
      seedDir: tree,
      network: task.network,
      timeoutMs: timeoutMs + 30_000,
    });
    const run = async (label: string, command: string) => {
      const started = performance.now();
      const r = await (sandbox as Sandbox).exec(command, {
        cwd: (sandbox as Sandbox).workdir,
        timeoutMs: Math.max(1000, until - Date.now()),
      });
      ms += performance.now() - started;
      log.push(
        `$ ${command}   # ${label}: exit ${r.exitCode}${r.timedOut ? ' (timed out)' : ''}, ${r.durationMs} ms`,
        r.stdout,
        r.stderr ? `--- stderr ---\n${r.stderr}` : '',
      );
      return r;
    };
    if (task.setup) {
      const s = await run('setup', task.setup);
      if (s.exitCode !== 0)
        return {
          exitCode: null,
          ms: Math.round(ms),
          setupFailed: true,
          reason: `\`${task.setup}\` exited ${s.exitCode}${s.timedOut ? ' (timed out)' : ''}: ${tail(s.stderr || s.stdout)}`,
          log: log.join('\n'),
        };
    }
    const c = await run('check', task.check);
    return {
      exitCode: c.exitCode,
      ms: Math.round(ms),
      setupFailed: false,
      reason:
        c.exitCode === 0
          ? null
          : `check \`${task.check}\` ${c.timedOut ? 'ran out of time' : `exited ${c.exitCode}`}: ${tail(c.stdout + c.stderr)}`,
      log: log.join('\n'),
    };
  } finally {
    // Its score is known: the sandbox is torn down beside the next steps.
    if (sandbox) later(sandbox.close());
  }
}

/** Waits for the task to end, following its events; on the deadline it cancels it. */
async function waitForEnd(
  pipeline: EvalPipeline,
  id: string,
  deadline: number,
): Promise<{ task: Task | null; timedOut: boolean }> {
  const stop = new AbortController();
  let timedOut = false;
  const timer = setTimeout(
    () => {
      timedOut = true;
      stop.abort();
    },
    Math.max(0, deadline - Date.now()),
  );
  // Live events can be trimmed or missed: the store is asked too, now and then.
  const poll = setInterval(() => {
    void pipeline.getTask(id).then(
      (t) => {
        if (t && isTerminal(t.status)) stop.abort();
      },
      () => {},
    );
  }, 1000);
  try {
    const first = await pipeline.getTask(id);
    if (!first || !isTerminal(first.status)) {
      for await (const event of pipeline.tail(id, 0, stop.signal)) if (isTerminalEvent(event)) break;
    }
  } finally {
    clearTimeout(timer);
    clearInterval(poll);
  }
  let task = await pipeline.getTask(id);
  if (timedOut && task && !isTerminal(task.status)) {
    await pipeline.cancel(id, 'the eval harness (the task ran out of its timeout)');
    task = await pipeline.getTask(id);
  } else if (task && isTerminal(task.status)) {
    timedOut = false;
  }
  return { task, timedOut };
}

/** The crew's preview, opened at the task's path (reported beside the score, not part of it). */
async function checkPreview(
  want: NonNullable<EvalTask['preview']>,
  task: Task,
): Promise<{ ok: boolean; detail: string }> {
  const url = task.result?.preview?.url ?? task.previewUrl;
  if (!url) return { ok: false, detail: 'the crew started no preview' };
  const target = new URL(want.path.replace(/^\//, ''), url.endsWith('/') ? url : `${url}/`).toString();
  try {
    const res = await fetch(target, { signal: AbortSignal.timeout(10_000) });
    const body = await res.text();
    if (res.status !== 200) return { ok: false, detail: `${want.path} answered ${res.status}` };
    if (want.contains && !body.includes(want.contains))
      return { ok: false, detail: `${want.path} does not contain ${JSON.stringify(want.contains)}` };
    return { ok: true, detail: `${want.path} answered 200${want.contains ? ' with the expected text' : ''}` };
  } catch (err) {
    return { ok: false, detail: `${want.path}: ${errorMessage(err)}` };
  }
}

/** Runs `fn` over `items`, at most `size` at a time. */
async function pool<T>(items: readonly T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(size, items.length)) }, worker));
}

function tail(text: string, max = 600): string {
  const t = text.trim();
  return t.length > max ? `…${t.slice(-max)}` : t;
}

function oneLine(text: string, max = 200): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
