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
