/**
 * The eval report's arithmetic and compare: pass@1 as the mean over runs with its spread, pass@N,
 * broken tasks counted but not scored, the flips compare names, and reports it refuses.
 */
import { describe, expect, it } from 'vitest';
import {
  compareReports,
  computeTotals,
  type EvalReport,
  median,
  parseReport,
  REPORT_FORMAT,
  type RunOutcome,
  type RunRecord,
  renderMarkdown,
  type TaskRecord,
} from '../../src/eval/eval-report.js';

function run(n: number, outcome: RunOutcome, extra: Partial<RunRecord> = {}): RunRecord {
  return {
    run: n,
    outcome,
    reason: outcome === 'pass' ? null : 'check exited 1',
    taskId: `t${n}`,
    taskStatus: 'succeeded',
    branch: 'devbot/x',
    changed: ['a'],
    wallMs: 1000,
    pipelineMs: 800,
    modelMs: 500,
    checkMs: 100,
    harnessMs: 100,
    tokensIn: 10,
    tokensOut: 5,
    costUsd: 0.01,
    toolCalls: 2,
    llmRequests: 3,
    rounds: 1,
    checkExitCode: outcome === 'pass' ? 0 : 1,
    preview: null,
    artifacts: `runs/x/run-${n}`,
    phases: {},
    ...extra,
  };
}

function task(id: string, outcomes: RunOutcome[], status: TaskRecord['status'] = 'ran'): TaskRecord {
  return {
    id,
    difficulty: id.startsWith('h') ? 'hard' : 'easy',
    tags: [],
    status,
    precheck: { ms: 10, exitCode: status === 'broken' ? 0 : 1, detail: '' },
    runs: outcomes.map((o, i) => run(i + 1, o)),
  };
}

function report(tasks: TaskRecord[], runs: number): EvalReport {
  return {
    format: REPORT_FORMAT,
    startedAt: '2026-12-04T00:00:00.000Z',
    finishedAt: '2026-12-04T00:01:00.000Z',
    suite: '/suite',
    model: 'm',
    runsPerTask: runs,
    concurrency: 1,
    selection: [],
    tasks,
    totals: computeTotals(tasks, runs),
  };
}

describe('eval report', () => {
  it('pass@1 is the mean of the per-run pass rates, with min, max and sd; pass@N counts any pass', () => {
    const t = computeTotals(
      [
        task('a', ['pass', 'pass', 'pass']),
        task('b', ['fail', 'pass', 'fail']),
        task('h', ['fail', 'fail', 'fail']),
      ],
      3,
    );
    expect(t.pass1.perRun).toEqual([1 / 3, 2 / 3, 1 / 3]);
    expect(t.pass1.mean).toBeCloseTo(4 / 9);
    expect(t.pass1.min).toBeCloseTo(1 / 3);
    expect(t.pass1.max).toBeCloseTo(2 / 3);
    expect(t.pass1.stddev).toBeCloseTo(Math.sqrt(2) / 9);
    expect(t.passN).toBeCloseTo(2 / 3);
    expect(t.byDifficulty).toEqual({ easy: { tasks: 2, pass1: 2 / 3 }, hard: { tasks: 1, pass1: 0 } });
    expect(t.costUsd).toBeCloseTo(0.09);
    expect(t.costPerTaskUsd).toBeCloseTo(0.03);
    expect(t.harness.medianShare).toBeCloseTo(0.1);
  });

  it('counts a broken task but scores nothing of it', () => {
    const t = computeTotals([task('a', ['pass']), task('b', [], 'broken')], 1);
    expect(t).toMatchObject({ tasks: 1, broken: 1, passN: 1 });
    expect(t.pass1.mean).toBe(1);
    expect(renderMarkdown(report([task('b', [], 'broken')], 1))).toContain('| b | easy | BROKEN |');
  });

  it('median of even and odd lists', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBe(0);
  });

  it('compare names fixed, regressed, better, worse and tasks only one report ran', () => {
    const a = report(
      [
        task('f', ['fail', 'fail']),
        task('r', ['pass', 'pass']),
        task('w', ['pass', 'pass']),
        task('s', ['pass', 'fail']),
        task('x', ['pass', 'pass']),
      ],
      2,
    );
    const b = report(
      [
        task('f', ['pass', 'fail']),
        task('r', ['fail', 'fail']),
        task('w', ['pass', 'fail']),
        task('s', ['fail', 'pass']),
        task('y', ['pass', 'pass']),
      ],
      2,
    );
    const c = compareReports(
      parseReport(JSON.stringify(a), 'a.json'),
      parseReport(JSON.stringify(b), 'b.json'),
    );
    expect(Object.fromEntries(c.tasks.map((t) => [t.id, t.change]))).toEqual({
      f: 'fixed',
      r: 'regressed',
      s: 'same',
      w: 'worse',
      x: 'only-a',
      y: 'only-b',
    });
    expect(c.common.tasks).toBe(4);
    expect(c.pass1.delta).toBeCloseTo(b.totals.pass1.mean - a.totals.pass1.mean);
  });

  it('refuses what is not a report, saying which file and what', () => {
    expect(() => parseReport('nope', 'x.json')).toThrow(/x\.json: not JSON/);
    expect(() => parseReport('{"format":"devbot-eval/1","tasks":[]}', 'y.json')).toThrow(
      /y\.json: not a devbot eval report \(model:/,
    );
  });
});
