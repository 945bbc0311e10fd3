/**
 * What every adapter module gets from the composition root: config, logging, metrics, the store
 * and the ways to create and follow tasks. Modules return a DevbotModule (routes, reporters,
 * start/stop); which handler runs which task kind is decided in one place, handler-table.ts.
 */
import type { Hono } from 'hono';
import type { Redis } from 'ioredis';
import type { Config, Role } from '../config/config.js';
import type {
  EventBus,
  SandboxProvider,
  ShareLinks,
  TaskApprovals,
  TaskIngress,
  TaskReporter,
  TaskStore,
} from '../core/index.js';
import type { SqlClient } from '../core/sql-client.js';
import type { ApiEnv } from '../gateway/api-app.js';
import type { RawRoute } from '../http/raw-route.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { SecretRegistry } from '../observability/redact.js';

export interface Runtime {
  config: Config;
  role: Role;
  logger: Logger;
  metrics: Metrics;
  /** Every secret value known to the process; logs, events and prompts are masked with it. */
  secrets: SecretRegistry;
  sql: SqlClient;
  store: TaskStore;
  bus: EventBus;
  ingress: TaskIngress;
  /** Decisions on waiting tasks (approve, revise) and messages to running ones (steer). */
  approvals: TaskApprovals;
  /** Base URL where the gateway is reachable (DEVBOT_PUBLIC_URL or the bound address). */
  publicUrl(): string;
  /** Where the gateway reaches this process's HTTP server (DEVBOT_INTERNAL_URL or derived). */
  internalUrl(): string;
  /** Read-only share links of task pages: `shareLinks.urlFor(taskId)` for checks, comments, chats. */
  shareLinks: ShareLinks;
  /** The shared Redis connection (plain commands; keys go under DEVBOT_QUEUE_PREFIX). */
  redis: Redis;
  /** The sandbox provider (local bubblewrap by default). */
  sandboxes: SandboxProvider;
}

/** What an adapter contributes. Everything optional; start/stop are safe to call twice. */
export interface DevbotModule {
  name: string;
  routes?: RawRoute[];
  /** Routes mounted inside the authenticated API (JWT with tasks:read), e.g. `/memories`. */
  apiRoutes?: { path: string; app: Hono<ApiEnv> }[];
  reporters?: TaskReporter[];
  start?(): Promise<void>;
  stop?(): Promise<void>;
}
