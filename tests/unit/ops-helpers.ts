/** Shared by the ops-*.test.ts files: repository paths, PromQL metric names, external tools. */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { Metrics } from '../../src/observability/metrics.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function repoFile(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

export function repoYaml<T = Record<string, unknown>>(path: string): T {
  // merge: true resolves `<<: *anchor` the way Docker Compose does.
  return parse(repoFile(path), { merge: true }) as T;
}

/** Absolute path of an executable on PATH, or null. */
export function which(name: string): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {}
  }
  return null;
}

export function run(cmd: string, args: string[], cwd = ROOT, env: NodeJS.ProcessEnv = process.env) {
  const result = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status ?? -1, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/**
 * Every series name devbot exposes on /metrics: counters as named (prom-client keeps `_total`),
 * gauges as named, histograms as `_bucket`, `_sum` and `_count`.
 */
export async function exportedSeries(): Promise<Set<string>> {
  // app.ts turns on prom-client's process metrics (devbot_process_*, devbot_nodejs_*).
  const metrics = new Metrics({ defaultMetrics: true });
  const names = new Set<string>();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    // The typings say enum MetricType; at run time getMetricsAsJSON() reports 'histogram' etc.
    const type = String(metric.type);
    if (type === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
    else if (type === 'summary')
      for (const suffix of ['', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
    else names.add(metric.name);
  }
  return names;
}

const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression reads. Drops string literals, label matchers, range and
 * subquery brackets, grouping label lists, functions and aggregations (identifiers followed by
 * `(`) and keywords; what is left are metric names.
 */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, ' ');
  const names: string[] = [];
  for (const match of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const name = match[0];
    const after = stripped.slice((match.index ?? 0) + name.length).trimStart();
    if (after.startsWith('(')) continue; // a function or an aggregation
    if (PROMQL_KEYWORDS.has(name.toLowerCase())) continue;
    // A number's exponent or unit (1e3, 5m) starts with a digit before it: not a name.
    const before = stripped[(match.index ?? 0) - 1];
    if (before !== undefined && /[0-9.]/.test(before)) continue;
    names.push(name);
  }
  return names;
}

/** One sample line of the Prometheus text exposition format: its labels (with `__name__`) and value. */
export interface ExposedSample {
  labels: Record<string, string>;
  value: number;
}

/** Parses `/metrics` text (what prom-client serves); comments and blank lines are skipped. */
export function parseExposition(text: string): ExposedSample[] {
  const samples: ExposedSample[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const match = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = { __name__: match[1] ?? '' };
    for (const pair of (match[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1] ?? ''] = (pair[2] ?? '').replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
    samples.push({ labels, value: Number(match[3]) });
  }
  return samples;
}

interface ScrapeJob {
  job_name: string;
  honor_labels?: boolean;
  static_configs?: { targets: string[]; labels?: Record<string, string> }[];
  dns_sd_configs?: { names: string[]; port: number }[];
  relabel_configs?: Record<string, unknown>[];
}

/**
 * The labels a scrape job gives the series of one target, as Prometheus does: `job`, `instance`,
 * the static config's labels, then `relabel_configs`. Only what the shipped config uses is
 * implemented (a constant `replacement` into a `target_label`); anything else throws, so a new
 * kind of rule makes this test say it needs teaching rather than pass on a wrong model.
 */
export function targetLabels(job: ScrapeJob, instance: string): Record<string, string> {
  // attachTargetLabels models the default (a clashing scraped label becomes exported_<name>).
  if (job.honor_labels) throw new Error(`honor_labels is not modelled by this test (job ${job.job_name})`);
  const labels: Record<string, string> = { job: job.job_name, instance };
  for (const sc of job.static_configs ?? [])
    if (sc.targets.includes(instance)) Object.assign(labels, sc.labels ?? {});
  for (const rule of job.relabel_configs ?? []) {
    const { target_label, replacement, action, source_labels, regex, ...rest } = rule;
    const simple =
      (action === undefined || action === 'replace') &&
      source_labels === undefined &&
      regex === undefined &&
      Object.keys(rest).length === 0 &&
      typeof target_label === 'string' &&
      typeof replacement === 'string' &&
      !replacement.includes('$');
    if (!simple) throw new Error(`relabel rule not modelled by this test: ${JSON.stringify(rule)}`);
    labels[target_label] = replacement;
  }
  return labels;
}

/**
 * Series as Prometheus stores them after scraping `samples` from a target with `target`
 * labels: with `honor_labels: false` (the default), a scraped label that clashes with a target
 * label is kept as `exported_<name>` and the target's value wins.
 */
export function attachTargetLabels(
  samples: ExposedSample[],
  target: Record<string, string>,
): ExposedSample[] {
  return samples.map(({ labels, value }) => {
    const out: Record<string, string> = {};
    for (const [name, v] of Object.entries(labels)) out[name in target ? `exported_${name}` : name] = v;
    return { labels: { ...out, ...target }, value };
  });
}

/** A series in promtool's input notation: `name{a="b", ...}`. */
export function seriesNotation(labels: Record<string, string>): string {
  const { __name__: name, ...rest } = labels;
  const pairs = Object.entries(rest)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `${name}{${pairs.join(', ')}}`;
}
