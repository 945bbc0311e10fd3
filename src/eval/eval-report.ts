/**
 * The eval report: what one `devbot eval` measured, as JSON (for `devbot eval compare` and other
 * tools) and as a table (Markdown, which reads as well on a terminal). The totals follow the usual
 * definitions: pass@1 is the mean over runs of the share of tasks that passed in that run (the
 * unbiased pass@1 estimate), with its spread over runs; pass@N is the share of tasks that passed
 * in at least one of the N runs.
 */
import { z } from 'zod';

export const REPORT_FORMAT = 'devbot-eval/1';

/** pass: `check` exited 0; fail: it did not, or the crew failed, timed out or ran out of budget; error: the run could not be scored. */
export type RunOutcome = 'pass' | 'fail' | 'error';

export interface RunRecord {
  /** 1-based. */
  run: number;
  outcome: RunOutcome;
  /** Why it did not pass (the crew's error, the timeout, the check's exit), null on pass. */
  reason: string | null;
  /** devbot's task id (its events are in the run's folder). */
  taskId: string | null;
  taskStatus: string | null;
  /** The branch devbot committed; null when it changed nothing. */
  branch: string | null;
  changed: string[];
  /** From preparing the repository to the end of scoring. */
  wallMs: number;
  /** devbot's own time for the task: queued to finished (includes the model's time). */
  pipelineMs: number;
  /** Time waiting for the model. */
  modelMs: number;
  /** Scoring: the task's `setup` and `check` commands (in a fresh sandbox). */
  checkMs: number;
  /**
   * What the harness itself added: wall minus pipeline minus check (making the repository,
   * submitting, exporting the branch, the scoring sandbox, writing the artifacts).
   */
  harnessMs: number;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  toolCalls: number;
  llmRequests: number;
  /** Coder <-> executor rounds. */
  rounds: number | null;
  checkExitCode: number | null;
  /** The task's preview check (reported, not scored); null when the task has none. */
  preview: { ok: boolean; detail: string } | null;
  /** Folder of this run's events, diff and check output, relative to the report's folder. */
  artifacts: string;
  /**
   * Milliseconds per step of the run: repository, submit, task (devbot's, waited for),
   * artifacts, export (the branch's tree with hidden/), score (sandbox, setup, check); and
   * noticed: from the task's end to the harness seeing it.
   */
  phases: Record<string, number>;
}

export interface TaskRecord {
  id: string;
  difficulty: string;
  tags: string[];
  /** broken: `check` already passed on repo/ + hidden/; the crew did not run. */
  status: 'ran' | 'broken';
  /** What the broken-task check found (its exit code and output tail). */
  precheck: { ms: number; exitCode: number | null; detail: string };
  runs: RunRecord[];
}

export interface Spread {
  mean: number;
  min: number;
  max: number;
  /** Standard deviation over runs (population), in the same unit (a share, 0..1). */
  stddev: number;
  perRun: number[];
}

export interface Totals {
  tasks: number;
  broken: number;
  runsPerTask: number;
  pass1: Spread;
  /** Share of tasks passing in at least one run. */
  passN: number;
  medianWallMs: number;
  medianModelMs: number;
  costUsd: number;
  costPerTaskUsd: number;
  tokensIn: number;
  tokensOut: number;
  /** Harness overhead as a share of a run's wall time: the median and the worst run. */
  harness: { medianMs: number; medianShare: number; maxShare: number };
  byDifficulty: Record<string, { tasks: number; pass1: number }>;
}

export interface EvalReport {
  format: typeof REPORT_FORMAT;
  startedAt: string;
  finishedAt: string;
  suite: string;
  model: string;
  runsPerTask: number;
  concurrency: number;
  /** The `--task` patterns, empty for the whole suite. */
  selection: string[];
  tasks: TaskRecord[];
  totals: Totals;
}

const mean = (xs: readonly number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** The totals over the tasks that ran (broken tasks are counted, never scored). */
export function computeTotals(tasks: readonly TaskRecord[], runsPerTask: number): Totals {
  const ran = tasks.filter((t) => t.status === 'ran');
  const perRun: number[] = [];
  for (let r = 1; r <= runsPerTask; r++) {
    const passed = ran.filter((t) => t.runs.find((x) => x.run === r)?.outcome === 'pass').length;
    perRun.push(ran.length === 0 ? 0 : passed / ran.length);
  }
  const m = mean(perRun);
  const runs = ran.flatMap((t) => t.runs);
  const shares = runs.filter((r) => r.wallMs > 0).map((r) => r.harnessMs / r.wallMs);
  const byDifficulty: Totals['byDifficulty'] = {};
  for (const d of [...new Set(ran.map((t) => t.difficulty))].sort()) {
    const group = ran.filter((t) => t.difficulty === d);
    byDifficulty[d] = { tasks: group.length, pass1: mean(group.map(taskPassRate)) };
  }
  const costUsd = runs.reduce((a, r) => a + r.costUsd, 0);
  return {
    tasks: ran.length,
    broken: tasks.length - ran.length,
    runsPerTask,
    pass1: {
      mean: m,
      min: perRun.length ? Math.min(...perRun) : 0,
      max: perRun.length ? Math.max(...perRun) : 0,
      stddev: Math.sqrt(mean(perRun.map((p) => (p - m) ** 2))),
      perRun,
    },
    passN:
      ran.length === 0 ? 0 : ran.filter((t) => t.runs.some((r) => r.outcome === 'pass')).length / ran.length,
    medianWallMs: median(runs.map((r) => r.wallMs)),
    medianModelMs: median(runs.map((r) => r.modelMs)),
    costUsd,
    costPerTaskUsd: ran.length === 0 ? 0 : costUsd / ran.length,
    tokensIn: runs.reduce((a, r) => a + r.tokensIn, 0),
    tokensOut: runs.reduce((a, r) => a + r.tokensOut, 0),
    harness: {
      medianMs: median(runs.map((r) => r.harnessMs)),
      medianShare: median(shares),
      maxShare: shares.length ? Math.max(...shares) : 0,
    },
    byDifficulty,
  };
}

/** Share of a task's runs that passed. */
export function taskPassRate(task: Pick<TaskRecord, 'runs'>): number {
  return task.runs.length === 0 ? 0 : task.runs.filter((r) => r.outcome === 'pass').length / task.runs.length;
}

const pct = (share: number) => `${(share * 100).toFixed(1)}%`;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const usd = (n: number) => `$${n.toFixed(4)}`;
const mark = (o: RunOutcome) => (o === 'pass' ? 'pass' : o === 'fail' ? 'FAIL' : 'ERROR');

/** The Markdown report: one row per task (means over its runs), then the totals and the reasons. */
export function renderMarkdown(report: EvalReport): string {
  const t = report.totals;
  const lines = [
    `# devbot eval: ${report.model}`,
    '',
    `${report.startedAt} · suite \`${report.suite}\`${report.selection.length ? ` · tasks ${report.selection.map((s) => `\`${s}\``).join(' ')}` : ''} · ${report.runsPerTask} run${report.runsPerTask === 1 ? '' : 's'} per task · concurrency ${report.concurrency}`,
    '',
    '| task | difficulty | runs | wall | model | check | harness | tokens in / out | cost | tool calls | rounds |',
    '| ---- | ---------- | ---- | ---- | ----- | ----- | ------- | --------------- | ---- | ---------- | ------ |',
  ];
  for (const task of report.tasks) {
    if (task.status === 'broken') {
      lines.push(`| ${task.id} | ${task.difficulty} | BROKEN | | | | | | | | |`);
      continue;
    }
    const rs = task.runs;
    const avg = (f: (r: RunRecord) => number) => mean(rs.map(f));
    const wall = avg((r) => r.wallMs);
    const rounds = rs.filter((r) => r.rounds !== null).map((r) => r.rounds as number);
    lines.push(
      `| ${task.id} | ${task.difficulty} | ${rs.map((r) => mark(r.outcome)).join(' ')} | ${secs(wall)} | ${secs(avg((r) => r.modelMs))} | ${secs(avg((r) => r.checkMs))} | ${secs(avg((r) => r.harnessMs))} (${pct(wall ? avg((r) => r.harnessMs) / wall : 0)}) | ${Math.round(avg((r) => r.tokensIn))} / ${Math.round(avg((r) => r.tokensOut))} | ${usd(avg((r) => r.costUsd))} | ${avg((r) => r.toolCalls).toFixed(1)} | ${rounds.length ? mean(rounds).toFixed(1) : '-'} |`,
    );
  }
  lines.push('', 'Times, tokens, cost, tool calls and rounds are means over the runs of a task.', '');
  const n = t.runsPerTask;
  lines.push(
    `- **pass@1: ${pct(t.pass1.mean)}**${n > 1 ? ` (mean over ${n} runs: ${t.pass1.perRun.map(pct).join(', ')}; spread ${pct(t.pass1.min)}–${pct(t.pass1.max)}, sd ${(t.pass1.stddev * 100).toFixed(1)} points)` : ''}`,
  );
  if (n > 1) lines.push(`- pass@${n}: ${pct(t.passN)} (tasks passing in at least one run)`);
  const diffs = Object.entries(t.byDifficulty)
    .map(([d, g]) => `${d} ${pct(g.pass1)} of ${g.tasks}`)
    .join(', ');
  if (diffs) lines.push(`- by difficulty (pass@1): ${diffs}`);
  lines.push(
    `- median wall time per run: ${secs(t.medianWallMs)} (model ${secs(t.medianModelMs)})`,
    `- cost: ${usd(t.costUsd)} in total, ${usd(t.costPerTaskUsd)} per task; tokens ${t.tokensIn} in / ${t.tokensOut} out`,
    `- harness overhead: median ${secs(t.harness.medianMs)}, ${pct(t.harness.medianShare)} of a run's wall time (worst ${pct(t.harness.maxShare)})`,
  );
  if (t.broken > 0)
    lines.push(
      `- **${t.broken} broken task${t.broken === 1 ? '' : 's'}**: \`check\` passes before the crew runs`,
    );
  const reasons = report.tasks.flatMap((task) =>
    task.status === 'broken'
      ? [`- ${task.id}: broken: ${oneLine(task.precheck.detail)}`]
      : task.runs
          .filter((r) => r.outcome !== 'pass')
          .map((r) => `- ${task.id} run ${r.run}: ${r.outcome}: ${oneLine(r.reason ?? '')} (${r.artifacts})`),
  );
  if (reasons.length > 0) lines.push('', '## Why runs did not pass', '', ...reasons);
  return `${lines.join('\n')}\n`;
}

function oneLine(text: string, max = 300): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

// ---- compare ---------------------------------------------------------------------------------

/** What `compare` needs of a report; anything else may differ between versions. */
const comparableSchema = z.looseObject({
  format: z.literal(REPORT_FORMAT),
  model: z.string(),
  startedAt: z.string(),
  runsPerTask: z.number(),
  tasks: z.array(
    z.looseObject({
      id: z.string(),
      status: z.enum(['ran', 'broken']),
      runs: z.array(z.looseObject({ outcome: z.enum(['pass', 'fail', 'error']), costUsd: z.number() })),
    }),
  ),
  totals: z.looseObject({
    pass1: z.looseObject({ mean: z.number() }),
    passN: z.number(),
    costUsd: z.number(),
    medianWallMs: z.number(),
  }),
});

export type ComparableReport = z.infer<typeof comparableSchema>;

/** Parses a report for `compare`; the error names the file and what is wrong. */
export function parseReport(text: string, file: string): ComparableReport {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not JSON (${(err as Error).message})`);
  }
  const parsed = comparableSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${file}: not a devbot eval report (${issue ? `${issue.path.join('.') || '(top level)'}: ${issue.message}` : 'invalid'})`,
    );
  }
  return parsed.data;
}

export interface TaskDiff {
  id: string;
  /** Share of runs passing, or null when the task is not in that report / was broken there. */
  a: number | null;
  b: number | null;
  /**
   * fixed: no run passed in A, some did in B; regressed: the other way round; better / worse: the
   * share of passing runs changed otherwise; only-a / only-b: the task ran in one report only.
   */
  change: 'fixed' | 'regressed' | 'better' | 'worse' | 'same' | 'only-a' | 'only-b';
}

export interface Comparison {
  tasks: TaskDiff[];
  pass1: { a: number; b: number; delta: number };
  passN: { a: number; b: number; delta: number };
  costUsd: { a: number; b: number };
  medianWallMs: { a: number; b: number };
  /** pass@1 over the tasks both reports ran (the fair comparison when the selections differ). */
  common: { tasks: number; a: number; b: number; delta: number };
}

export function compareReports(a: ComparableReport, b: ComparableReport): Comparison {
  const rate = (t: ComparableReport['tasks'][number] | undefined) =>
    t && t.status === 'ran' && t.runs.length > 0
      ? t.runs.filter((r) => r.outcome === 'pass').length / t.runs.length
      : null;
  const ids = [...new Set([...a.tasks.map((t) => t.id), ...b.tasks.map((t) => t.id)])].sort();
  const tasks: TaskDiff[] = ids.map((id) => {
    const ra = rate(a.tasks.find((t) => t.id === id));
    const rb = rate(b.tasks.find((t) => t.id === id));
    let change: TaskDiff['change'];
    if (ra === null) change = 'only-b';
    else if (rb === null) change = 'only-a';
    else if (ra === rb) change = 'same';
    else if (ra === 0 && rb > 0) change = 'fixed';
    else if (rb === 0 && ra > 0) change = 'regressed';
    else change = rb > ra ? 'better' : 'worse';
    return { id, a: ra, b: rb, change };
  });
  const both = tasks.filter((t) => t.a !== null && t.b !== null);
  const ca = mean(both.map((t) => t.a as number));
  const cb = mean(both.map((t) => t.b as number));
  return {
    tasks,
    pass1: {
      a: a.totals.pass1.mean,
      b: b.totals.pass1.mean,
      delta: b.totals.pass1.mean - a.totals.pass1.mean,
    },
    passN: { a: a.totals.passN, b: b.totals.passN, delta: b.totals.passN - a.totals.passN },
    costUsd: { a: a.totals.costUsd, b: b.totals.costUsd },
    medianWallMs: { a: a.totals.medianWallMs, b: b.totals.medianWallMs },
    common: { tasks: both.length, a: ca, b: cb, delta: cb - ca },
  };
}

const points = (d: number) => `${d >= 0 ? '+' : ''}${(d * 100).toFixed(1)} points`;

export function renderComparison(
  c: Comparison,
  names: { a: string; b: string },
  reports: { a: ComparableReport; b: ComparableReport },
): string {
  const lines = [
    `A: ${names.a} (${reports.a.model}, ${reports.a.startedAt}, ${reports.a.runsPerTask} run(s) per task)`,
    `B: ${names.b} (${reports.b.model}, ${reports.b.startedAt}, ${reports.b.runsPerTask} run(s) per task)`,
    '',
  ];
  const changed = c.tasks.filter((t) => t.change !== 'same');
  const show = (r: number | null) => (r === null ? '-' : pct(r));
  if (changed.length === 0) lines.push('No task changed.');
  else {
    lines.push('| task | A | B | change |', '| ---- | - | - | ------ |');
    for (const t of changed) lines.push(`| ${t.id} | ${show(t.a)} | ${show(t.b)} | ${t.change} |`);
  }
  const same = c.tasks.length - changed.length;
  lines.push(
    '',
    `${same} task${same === 1 ? '' : 's'} unchanged.`,
    `pass@1: ${pct(c.pass1.a)} -> ${pct(c.pass1.b)} (${points(c.pass1.delta)})`,
    `pass@N: ${pct(c.passN.a)} -> ${pct(c.passN.b)} (${points(c.passN.delta)})`,
  );
  if (c.common.tasks !== c.tasks.length)
    lines.push(
      `pass@1 on the ${c.common.tasks} tasks both ran: ${pct(c.common.a)} -> ${pct(c.common.b)} (${points(c.common.delta)})`,
    );
  lines.push(
    `cost: ${usd(c.costUsd.a)} -> ${usd(c.costUsd.b)}; median wall time per run: ${secs(c.medianWallMs.a)} -> ${secs(c.medianWallMs.b)}`,
  );
  return `${lines.join('\n')}\n`;
}
