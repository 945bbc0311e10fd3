import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportedSeries, promqlMetricNames, ROOT, repoFile, repoYaml, run, which } from './ops-helpers.js';

interface Target {
  expr?: string;
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
function prometheusQueries(): { panel: string; expr: string }[] {
  return allPanels(dashboard.panels).flatMap((panel) =>
    (panel.targets ?? [])
      .filter((t) => (t.datasource ?? panel.datasource)?.type === 'prometheus')
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
