import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every metric devbot exports. The Grafana dashboard test reads this list: a panel that queries a
 * name not defined here fails the build. One Metrics object per process (or per test app).
 */
export class Metrics {
  readonly registry = new Registry();
  readonly tasksTotal = new Counter({
    name: 'devbot_tasks_total',
    help: 'Tasks that reached a status, by source, kind and status',
    labelNames: ['source', 'kind', 'status'] as const,
    registers: [this.registry],
  });
  readonly approvalsTotal = new Counter({
    name: 'devbot_approvals_total',
    help: 'Decisions on waiting plans (approved, revised, expired) and on risky commands (command_allowed_once, command_allowed_task, command_denied)',
    labelNames: ['decision'] as const,
    registers: [this.registry],
  });
  readonly taskDuration = new Histogram({
    name: 'devbot_task_duration_seconds',
    help: 'Wall time from task start to its end, by kind and status',
    labelNames: ['kind', 'status'] as const,
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers: [this.registry],
  });
  readonly queueWait = new Histogram({
    name: 'devbot_queue_wait_seconds',
    help: 'Time a task waited in the queue before a worker took it',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'devbot_queue_depth',
    help: 'Jobs in the task queue, by state',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  /** Where `devbot_pull_requests` reads its counts (the store), set by the app. */
  pullRequestCounts: (() => Promise<Record<string, number>>) | null = null;
  readonly pullRequests = new Gauge({
    name: 'devbot_pull_requests',
    help: "devbot's pull requests by outcome (open, merged, closed)",
    labelNames: ['outcome'] as const,
    registers: [this.registry],
    collect: async () => {
      const source = this.pullRequestCounts;
      if (!source) return;
      const counts = await source().catch(() => null);
      if (counts) for (const [outcome, n] of Object.entries(counts)) this.pullRequests.set({ outcome }, n);
    },
  });
  readonly workerUp = new Gauge({
    name: 'devbot_worker_up',
    help: '1 while this process runs a task worker',
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'devbot_http_request_duration_seconds',
    help: 'Gateway HTTP latency by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly ingestDuration = new Histogram({
    name: 'devbot_ingest_duration_seconds',
    help: 'Time from an update or webhook arriving to its task being enqueued, by source',
    labelNames: ['source'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  readonly errorsTotal = new Counter({
    name: 'devbot_errors_total',
    help: 'Errors by component',
    labelNames: ['component'] as const,
    registers: [this.registry],
  });
  readonly sandboxStart = new Histogram({
    name: 'devbot_sandbox_start_seconds',
    help: 'Time to create a sandbox, by provider',
    labelNames: ['provider'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly sandboxCommands = new Counter({
    name: 'devbot_sandbox_commands_total',
    help: 'Commands run in sandboxes, by provider and outcome (ok, error, timeout)',
    labelNames: ['provider', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly previewsActive = new Gauge({
    name: 'devbot_previews_active',
    help: 'Preview URLs currently served',
    registers: [this.registry],
  });
  readonly llmTokens = new Counter({
    name: 'devbot_llm_tokens_total',
    help: 'LLM tokens by agent role (llm_role) and direction (in, out)',
    labelNames: ['llm_role', 'direction'] as const,
    registers: [this.registry],
  });
  readonly llmCost = new Counter({
    name: 'devbot_llm_cost_usd_total',
    help: 'Estimated LLM cost in US dollars, by agent role (llm_role)',
    labelNames: ['llm_role'] as const,
    registers: [this.registry],
  });
  readonly llmRequestDuration = new Histogram({
    name: 'devbot_llm_request_duration_seconds',
    help: 'LLM request latency by agent role (llm_role)',
    labelNames: ['llm_role'] as const,
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  readonly telegramEdits = new Counter({
    name: 'devbot_telegram_api_calls_total',
    help: 'Telegram Bot API calls by method and outcome',
    labelNames: ['method', 'outcome'] as const,
    registers: [this.registry],
  });

  /**
   * One LLM call's usage. The label is `llm_role` (planner, coder, router...), never `role`: the
   * shipped Prometheus config sets a target label `role` (gateway, worker, bot) on every scraped
   * series, and Prometheus renames a clashing metric label to `exported_role`.
   */
  recordLlmUsage(usage: {
    role: string;
    tokensIn: number;
    tokensOut: number;
    costUsd: number;
    durationMs: number;
  }) {
    const llm_role = usage.role;
    this.llmTokens.inc({ llm_role, direction: 'in' }, usage.tokensIn);
    this.llmTokens.inc({ llm_role, direction: 'out' }, usage.tokensOut);
    this.llmCost.inc({ llm_role }, usage.costUsd);
    this.llmRequestDuration.observe({ llm_role }, usage.durationMs / 1000);
  }

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'devbot_' });
  }
}
