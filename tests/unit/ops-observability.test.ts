import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { Metrics } from '../../src/observability/metrics.js';
import {
  attachTargetLabels,
  type ExposedSample,
  exportedSeries,
  parseExposition,
  promqlMetricNames,
  ROOT,
  repoFile,
  repoYaml,
  run,
  seriesNotation,
  targetLabels,
  which,
} from './ops-helpers.js';

interface Target {
  expr?: string;
  legendFormat?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  title?: string;
  type: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}

const dashboard = JSON.parse(repoFile('infra/grafana/dashboards/devbot.json')) as {
  uid: string;
  panels: Panel[];
};

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

/** Prometheus queries of the dashboard, with the panel they belong to. */
function prometheusQueries(): { panel: string; expr: string; legend: string }[] {
  return allPanels(dashboard.panels).flatMap((panel) =>
    (panel.targets ?? [])
      .filter((t) => (t.datasource ?? panel.datasource)?.type === 'prometheus')
      .map((t) => ({ panel: panel.title ?? '?', expr: t.expr ?? '', legend: t.legendFormat ?? '' })),
  );
}

/** LogQL queries of the dashboard (Loki panels). */
function lokiQueries(): { panel: string; expr: string }[] {
  return allPanels(dashboard.panels).flatMap((panel) =>
    (panel.targets ?? [])
      .filter((t) => (t.datasource ?? panel.datasource)?.type === 'loki')
      .map((t) => ({ panel: panel.title ?? '?', expr: t.expr ?? '' })),
  );
}

describe('PromQL metric extraction (used by the checks below)', () => {
  it('finds metric names and ignores functions, labels, keywords and ranges', () => {
    expect(
      promqlMetricNames(
        'histogram_quantile(0.95, sum by (le, kind) (rate(devbot_task_duration_seconds_bucket{status="failed"}[$__rate_interval])))',
      ),
    ).toEqual(['devbot_task_duration_seconds_bucket']);
    expect(
      promqlMetricNames('sum(a_total) / sum(b_total{x=~"y|z"}) > 0.25 and on (job) up offset 5m'),
    ).toEqual(['a_total', 'b_total', 'up']);
    expect(promqlMetricNames('sum(devbot_worker_up) < 1 or absent(devbot_worker_up)')).toEqual([
      'devbot_worker_up',
      'devbot_worker_up',
    ]);
    expect(promqlMetricNames('1e3 * devbot_x')).toEqual(['devbot_x']);
  });
});

describe('Grafana dashboard', () => {
  it('only queries metrics devbot exports', async () => {
    const exported = await exportedSeries();
    const queries = prometheusQueries();
    expect(queries.length).toBeGreaterThan(10);
    const unknown: string[] = [];
    for (const { panel, expr } of queries) {
      const names = promqlMetricNames(expr);
      expect(names.length, `panel "${panel}" queries no metric: ${expr}`).toBeGreaterThan(0);
      for (const name of names) if (!exported.has(name)) unknown.push(`${panel}: ${name}`);
    }
    expect(unknown, 'metrics the dashboard queries but src/observability/metrics.ts does not define').toEqual(
      [],
    );
  });

  it('covers what operators need: tasks, durations, queue, LLM, sandbox, ingest, errors', () => {
    const used = new Set(prometheusQueries().flatMap(({ expr }) => promqlMetricNames(expr)));
    for (const name of [
      'devbot_tasks_total',
      'devbot_task_duration_seconds_bucket',
      'devbot_queue_depth',
      'devbot_queue_wait_seconds_bucket',
      'devbot_worker_up',
      'devbot_llm_tokens_total',
      'devbot_llm_cost_usd_total',
      'devbot_sandbox_start_seconds_bucket',
      'devbot_ingest_duration_seconds_bucket',
      'devbot_errors_total',
    ])
      expect(used, name).toContain(name);
    const titles = allPanels(dashboard.panels).map((p) => p.title ?? '');
    expect(titles.some((t) => /p50/.test(t) && /p95/.test(t) && /duration/i.test(t))).toBe(true);
  });

  it('uses the datasources Grafana is provisioned with', () => {
    const provisioned = repoYaml<{ datasources: { uid: string; type: string; url: string }[] }>(
      'infra/grafana/provisioning/datasources/datasources.yml',
    ).datasources;
    const uids = new Set(provisioned.map((d) => d.uid));
    for (const panel of allPanels(dashboard.panels)) {
      if (panel.type === 'row') continue;
      expect(uids, `panel "${panel.title}"`).toContain(panel.datasource?.uid);
      for (const target of panel.targets ?? []) expect(uids).toContain(target.datasource?.uid);
    }
    const compose = repoYaml<{ services: Record<string, unknown> }>('docker-compose.yml');
    for (const source of provisioned) {
      const host = new URL(source.url).hostname;
      expect(Object.keys(compose.services), `datasource ${source.uid} points at ${host}`).toContain(host);
    }
    const provider = repoYaml<{ providers: { options: { path: string } }[] }>(
      'infra/grafana/provisioning/dashboards/dashboards.yml',
    ).providers[0];
    expect(provider?.options.path).toBe('/var/lib/grafana/dashboards');
  });

  it('catches a panel that queries a metric devbot does not export', async () => {
    const exported = await exportedSeries();
    const names = promqlMetricNames('sum(rate(devbot_made_up_total[5m]))');
    expect(names.filter((n) => !exported.has(n))).toEqual(['devbot_made_up_total']);
    // Suffix mistakes are caught too: a histogram has no bare series, a counter no `_total_total`.
    expect(exported.has('devbot_task_duration_seconds')).toBe(false);
    expect(exported.has('devbot_task_duration_seconds_count')).toBe(true);
    expect(exported.has('devbot_tasks_total')).toBe(true);
  });
});

interface PromConfig {
  rule_files: string[];
  scrape_configs: {
    job_name: string;
    metrics_path?: string;
    static_configs?: { targets: string[] }[];
    dns_sd_configs?: { names: string[]; port: number }[];
  }[];
}
interface AlertRules {
  groups: {
    name: string;
    rules: { alert: string; expr: string; for?: string; labels?: Record<string, string> }[];
  }[];
}

describe('Prometheus config and alert rules', () => {
  const prom = repoYaml<PromConfig>('infra/prometheus/prometheus.yml');
  const rules = repoYaml<AlertRules>('infra/prometheus/alerts.yml');
  const alerts = rules.groups.flatMap((g) => g.rules);

  it('scrapes /metrics of every devbot role, workers through DNS so they can scale', () => {
    const compose = repoYaml<{ services: Record<string, { command?: string[] }> }>('docker-compose.yml');
    const roles = Object.entries(compose.services)
      .filter(([, s]) => s.command?.[0] === 'start')
      .map(([name]) => name);
    expect(roles.sort()).toEqual(['bot', 'gateway', 'worker']);
    const hosts = new Map<string, string>();
    for (const job of prom.scrape_configs) {
      for (const sc of job.static_configs ?? [])
        for (const t of sc.targets) hosts.set(t.split(':')[0] ?? '', job.metrics_path ?? '/metrics');
      for (const dns of job.dns_sd_configs ?? [])
        for (const n of dns.names) hosts.set(n, job.metrics_path ?? '');
    }
    for (const role of roles) expect(hosts.get(role), `role ${role} is scraped`).toBe('/metrics');
    const workerJob = prom.scrape_configs.find((j) =>
      j.dns_sd_configs?.some((d) => d.names.includes('worker')),
    );
    expect(workerJob?.dns_sd_configs?.[0]?.port).toBe(3000);
    for (const file of prom.rule_files)
      expect(existsSync(join(ROOT, 'infra/prometheus', file)), file).toBe(true);
  });

  it('alerts on a backed-up queue, a high failure rate and no live worker', () => {
    const byName = new Map(alerts.map((a) => [a.alert, a]));
    expect(byName.get('DevbotQueueBackingUp')?.expr).toMatch(/devbot_queue_depth\{state="waiting"\}/);
    expect(byName.get('DevbotTaskFailureRateHigh')?.expr).toMatch(/devbot_tasks_total\{status="failed"\}/);
    expect(byName.get('DevbotNoWorkerAlive')?.expr).toMatch(/devbot_worker_up/);
    for (const alert of alerts)
      expect(alert.labels?.['severity'], alert.alert).toMatch(/^(warning|critical)$/);
  });

  it('alert rules only read metrics devbot exports', async () => {
    const exported = await exportedSeries();
    for (const alert of alerts)
      for (const name of promqlMetricNames(alert.expr))
        expect(exported, `${alert.alert}: ${name}`).toContain(name);
  });

  const promtool = which('promtool');
  const reason = promtool ? '' : ' (skipped: promtool not installed; apt-get install prometheus)';
  it.skipIf(!promtool)(`promtool check config accepts prometheus.yml and its rules${reason}`, () => {
    const out = run(promtool ?? '', ['check', 'config', 'infra/prometheus/prometheus.yml']);
    expect(out.code, out.stdout + out.stderr).toBe(0);
    expect(out.stdout).toMatch(/SUCCESS: 3 rules found/);
  });
  it.skipIf(!promtool)(`promtool check rules accepts alerts.yml${reason}`, () => {
    const out = run(promtool ?? '', ['check', 'rules', 'infra/prometheus/alerts.yml']);
    expect(out.code, out.stdout + out.stderr).toBe(0);
  });
  it.skipIf(!promtool)(
    `promtool test rules: each alert fires when it should and not otherwise${reason}`,
    () => {
      const out = run(promtool ?? '', ['test', 'rules', 'infra/prometheus/alerts.test.yml']);
      expect(out.code, out.stdout + out.stderr).toBe(0);
      expect(out.stdout).toMatch(/SUCCESS/);
    },
  );
});

describe('Grafana panels against metrics scraped through the shipped Prometheus config', () => {
  const prom = repoYaml<{ scrape_configs: Parameters<typeof targetLabels>[0][] }>(
    'infra/prometheus/prometheus.yml',
  );
  const job = (host: string) => {
    const found = prom.scrape_configs.find(
      (j) =>
        j.static_configs?.some((sc) => sc.targets.some((t) => t.startsWith(`${host}:`))) ||
        j.dns_sd_configs?.some((d) => d.names.includes(host)),
    );
    if (!found) throw new Error(`no scrape job for ${host}`);
    return found;
  };
  // One target per devbot role, addressed as Prometheus would find it (workers through DNS).
  const targets = [
    { role: 'gateway', instance: 'gateway:3000' },
    { role: 'worker', instance: '172.18.0.7:3000' },
    { role: 'bot', instance: 'bot:3000' },
  ].map((t) => ({
    ...t,
    labels: targetLabels(job(t.role), t.instance),
    metrics: new Metrics({ defaultMetrics: true }),
  }));
  const llmRoles = ['router', 'planner', 'coder', 'synthesizer', 'question'];

  /** What each process does between two scrapes: a little of everything the dashboard shows. */
  function activity(role: string, metrics: Metrics, step: number) {
    if (role === 'gateway') {
      metrics.queueDepth.set({ state: 'waiting' }, 3 + step);
      metrics.queueDepth.set({ state: 'active' }, 1);
      metrics.ingestDuration.observe({ source: 'api' }, 0.004);
      metrics.httpDuration.observe({ method: 'POST', route: '/tasks', status: '201' }, 0.02);
    }
    if (role === 'worker') {
      metrics.workerUp.set(1);
      for (const llmRole of llmRoles)
        metrics.recordLlmUsage({
          role: llmRole,
          tokensIn: 900,
          tokensOut: 120,
          costUsd: 0.003,
          durationMs: 1400,
        });
      metrics.tasksTotal.inc({ source: 'api', kind: 'dev', status: 'succeeded' }, 2);
      metrics.tasksTotal.inc({ source: 'telegram', kind: 'shell', status: 'failed' });
      metrics.tasksTotal.inc({ source: 'github', kind: 'dev', status: 'cancelled' });
      metrics.taskDuration.observe({ kind: 'dev', status: 'succeeded' }, 42);
      metrics.queueWait.observe(0.3);
      metrics.sandboxStart.observe({ provider: 'local' }, 0.08);
      metrics.sandboxCommands.inc({ provider: 'local', outcome: 'ok' });
      metrics.previewsActive.set(1);
      metrics.errorsTotal.inc({ component: 'worker' });
    }
    if (role === 'bot') {
      metrics.telegramEdits.inc({ method: 'editMessageText', outcome: 'ok' });
      metrics.ingestDuration.observe({ source: 'telegram' }, 0.006);
    }
  }

  /** Five scrapes a minute apart of each target's real /metrics text, relabelled as Prometheus does. */
  async function recordScrapes(count: number): Promise<Map<string, string[]>> {
    const series = new Map<string, string[]>();
    for (let step = 0; step < count; step++)
      for (const t of targets) {
        activity(t.role, t.metrics, step);
        const scraped: ExposedSample[] = attachTargetLabels(
          parseExposition(await t.metrics.registry.metrics()),
          t.labels,
        );
        for (const { labels, value } of scraped) {
          const key = seriesNotation(labels);
          const values = series.get(key) ?? new Array<string>(count).fill('_');
          values[step] = String(value);
          series.set(key, values);
        }
      }
    return series;
  }

  it('every legend label is one the query keeps', () => {
    for (const { panel, expr, legend } of prometheusQueries()) {
      const kept = [...expr.matchAll(/\bby\s*\(([^)]*)\)/g)].flatMap((m) =>
        (m[1] ?? '').split(',').map((l) => l.trim()),
      );
      for (const [, label] of legend.matchAll(/\{\{\s*([A-Za-z_]+)\s*\}\}/g))
        expect(kept, `panel "${panel}" shows {{${label}}}`).toContain(label);
    }
  });

  it('the scrape config gives every series its role; devbot labels never clash with it', async () => {
    const series = await recordScrapes(1);
    const keys = [...series.keys()];
    expect(keys.some((k) => k.includes('llm_role="coder"') && k.includes('role="worker"'))).toBe(true);
    expect(keys.filter((k) => k.includes('exported_'))).toEqual([]);
  });

  const promtool = which('promtool');
  const reason = promtool ? '' : ' (skipped: promtool not installed; apt-get install prometheus)';
  it.skipIf(!promtool)(
    `promtool: each panel's query returns data, LLM panels by agent role, process panels by devbot role${reason}`,
    async () => {
      const count = 5;
      const series = await recordScrapes(count);
      const at = `${count - 1}m`;
      const queries = prometheusQueries().map((q) => ({
        ...q,
        // Grafana's interval variables; the scrapes span 4 minutes.
        expr: q.expr.replace(/\$__\w+/g, '5m'),
      }));
      const tests = [
        ...queries.map(({ expr }) => ({
          expr: `group(${expr})`,
          eval_time: at,
          exp_samples: [{ labels: '{}', value: 1 }],
        })),
        ...queries
          .filter(({ legend }) => legend.includes('{{llm_role}}'))
          .map(({ expr }) => ({
            expr: `group by (llm_role) (${expr})`,
            eval_time: at,
            exp_samples: llmRoles.map((r) => ({ labels: `{llm_role="${r}"}`, value: 1 })),
          })),
        ...queries
          .filter(({ legend }) => legend.includes('{{role}}'))
          .map(({ expr }) => ({
            expr: `group by (role) (${expr})`,
            eval_time: at,
            exp_samples: targets.map((t) => ({ labels: `{role="${t.role}"}`, value: 1 })),
          })),
        // No metric label was renamed by a clash with a target label.
        ...['role', 'job', 'instance'].map((label) => ({
          expr: `count({exported_${label}=~".+"})`,
          eval_time: at,
          exp_samples: [],
        })),
      ];
      expect(tests.filter((t) => t.expr.startsWith('group by (llm_role)')).length).toBe(3);
      const file = {
        rule_files: [],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: [...series].map(([name, values]) => ({ series: name, values: values.join(' ') })),
            promql_expr_test: tests,
          },
        ],
      };
      const dir = mkdtempSync(join(tmpdir(), 'devbot-panels-'));
      try {
        writeFileSync(join(dir, 'panels.test.yml'), stringify(file));
        const out = run(promtool ?? '', ['test', 'rules', 'panels.test.yml'], dir);
        expect(out.code, out.stdout + out.stderr).toBe(0);
        expect(out.stdout).toMatch(/SUCCESS/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('Grafana error-log panel (Loki)', () => {
  it('selects the stream label level="error" (a string), never compares level numerically', () => {
    const queries = lokiQueries();
    expect(queries.map((q) => q.panel)).toContain('Error logs');
    for (const { panel, expr } of queries) {
      // The stream selector is the first {...}; pino-loki labels each stream with level=<name>.
      const selector = /^\s*\{([^}]*)\}/.exec(expr)?.[1] ?? '';
      expect(selector, panel).toMatch(/\bapp="devbot"/);
      if (panel === 'Error logs') expect(selector, panel).toMatch(/\blevel=~?"error/);
      expect(expr, panel).not.toMatch(/\blevel\s*[<>]=?\s*\d/);
    }
  });
});
