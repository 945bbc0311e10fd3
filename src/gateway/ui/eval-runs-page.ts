/**
 * `/ui/evals` (admins): the `devbot eval` runs kept under `<DEVBOT_DATA_DIR>/eval/<timestamp>/`,
 * newest first, with their pass rates and cost, and each run's Markdown report as text. Reports
 * are read as data: a file that does not parse is listed as unreadable, never rendered as HTML.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cost, esc } from './ui-html.js';

export interface EvalRunSummary {
  id: string;
  startedAt: string | null;
  suite: string | null;
  model: string | null;
  tasks: number | null;
  runsPerTask: number | null;
  pass1: number | null;
  passN: number | null;
  costUsd: number | null;
}

/** A run directory's name as the harness makes it (an ISO-like timestamp), nothing else. */
export const EVAL_RUN_ID = /^[\w.:-]{1,80}$/;

export async function listEvalRuns(dir: string, limit = 100): Promise<EvalRunSummary[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => EVAL_RUN_ID.test(n));
  names.sort().reverse();
  return Promise.all(names.slice(0, limit).map((id) => summarize(dir, id)));
}

async function summarize(dir: string, id: string): Promise<EvalRunSummary> {
  const none: EvalRunSummary = {
    id,
    startedAt: null,
    suite: null,
    model: null,
    tasks: null,
    runsPerTask: null,
    pass1: null,
    passN: null,
    costUsd: null,
  };
  try {
    const r = JSON.parse(await readFile(join(dir, id, 'report.json'), 'utf8')) as Record<string, unknown>;
    const totals = (r['totals'] ?? {}) as Record<string, unknown>;
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    const str = (v: unknown) => (typeof v === 'string' ? v : null);
    return {
      id,
      startedAt: str(r['startedAt']),
      suite: str(r['suite']),
      model: str(r['model']),
      tasks: num(totals['tasks']),
      runsPerTask: num(r['runsPerTask']),
      pass1: num((totals['pass1'] as Record<string, unknown> | undefined)?.['mean']),
      passN: num(totals['passN']),
      costUsd: num(totals['costUsd']),
    };
  } catch {
    return none;
  }
}

/** The Markdown report of one run, or null. */
export async function readEvalReport(dir: string, id: string): Promise<string | null> {
  if (!EVAL_RUN_ID.test(id) || id === '.' || id === '..') return null;
  return readFile(join(dir, id, 'report.md'), 'utf8').catch(() => null);
}

const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)} %`);

export function renderEvalRuns(runs: EvalRunSummary[]): string {
  const rows = runs
    .map(
      (r) => `<tr><td><a href="/ui/evals/${encodeURIComponent(r.id)}">${esc(r.startedAt ?? r.id)}</a></td>
<td>${esc(r.suite ?? 'unreadable report')}</td><td>${esc(r.model ?? '—')}</td><td>${esc(r.tasks ?? '—')} × ${esc(r.runsPerTask ?? '—')}</td>
<td>${pct(r.pass1)}</td><td>${pct(r.passN)}</td><td>${cost(r.costUsd)}</td></tr>`,
    )
    .join('\n');
  const table =
    runs.length === 0
      ? "<p>No eval runs yet: <code>npx devbot eval --suite eval/tasks --task 'smoke-*'</code> (docs/eval.md).</p>"
      : `<table class="tasks"><thead><tr><th>started</th><th>suite</th><th>model</th><th>tasks × runs</th><th>pass@1</th><th>pass@N</th><th>cost</th></tr></thead><tbody>${rows}</tbody></table>`;
  return `<h1>Eval runs</h1>${table}`;
}

export function renderEvalReport(id: string, markdown: string): string {
  return `<h1>Eval run ${esc(id)}</h1><p><a href="/ui/evals">All eval runs</a></p><pre class="output">${esc(markdown)}</pre>`;
}
