/**
 * What every adapter module gets from main: config, logging, metrics, the store and the ways to
 * create and follow tasks. Adapters return a DevbotModule; main.ts/app.ts composes them.
 */
import type { Hono } from 'hono';
import type { Redis } from 'ioredis';
import type { Config } from './config/config.js';
import type {
  EventBus,
  SandboxProvider,
  TaskHandler,
  TaskIngress,
  TaskKind,
  TaskReporter,
  TaskRouter,
  TaskStore,
} from './core/index.js';
import type { ApiEnv } from './gateway/api-app.js';
import type { RawRoute } from './gateway/raw-route.js';
import type { Logger } from './observability/logger.js';
import type { Metrics } from './observability/metrics.js';
import type { SecretRegistry } from './observability/redact.js';
import type { SqlClient } from './store/sql-client.js';

export const ROLES = ['all', 'gateway', 'worker', 'bot'] as const;
export type Role = (typeof ROLES)[number];

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
  /** Base URL where the gateway is reachable (DEVBOT_PUBLIC_URL or the bound address). */
  publicUrl(): string;
  /** Where the gateway reaches this process's HTTP server (DEVBOT_INTERNAL_URL or derived). */
  internalUrl(): string;
  /** The shared Redis connection (plain commands; keys go under DEVBOT_QUEUE_PREFIX). */
  redis: Redis;
  /** Signs an API JWT for a subject (e.g. `tg:123`). */
  issueToken(subject: string, ttlSeconds?: number): Promise<string>;
  /** The sandbox provider (local bubblewrap by default). */
  sandboxes: SandboxProvider;
}

/** What an adapter contributes. Everything optional; start/stop are safe to call twice. */
export interface DevbotModule {
  name: string;
  routes?: RawRoute[];
  /** Routes mounted inside the authenticated API (JWT with tasks:read), e.g. `/memories`. */
  apiRoutes?: { path: string; app: Hono<ApiEnv> }[];
  handlers?: Partial<Record<TaskKind, TaskHandler>>;
  reporters?: TaskReporter[];
  router?: TaskRouter;
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

/** Builds a module once the runtime exists; returns null when its integration is not configured. */
export type ModuleFactory = (runtime: Runtime) => DevbotModule | null | Promise<DevbotModule | null>;
