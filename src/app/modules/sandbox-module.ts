/**
 * The sandbox module: the sandbox provider for DEVBOT_SANDBOX, the shell fast lane (a fresh
 * sandbox per task, or a Telegram chat's persistent one), the one preview lifetime shared by shell
 * and dev previews, and the `/preview/` reverse proxy. One PreviewRegistry is shared by the
 * provider (which publishes sockets) and the proxy (which serves them); with split roles the worker
 * also records its tokens in Redis and the gateway forwards to it (src/gateway/preview-directory.ts).
 */
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { E2BSandboxProvider } from '../../../sandbox/e2b/e2b-sandbox-provider.js';
import { LocalSandboxProvider } from '../../../sandbox/local/local-sandbox-provider.js';
import type { Config, Role } from '../../config/config.js';
import { type PreviewPublisher, type SandboxProvider, UnavailableError } from '../../core/index.js';
import { PreviewDirectory, sharedPreviewPublisher } from '../../gateway/preview-directory.js';
import type { PreviewMiss } from '../../gateway/preview-pages.js';
import { createPreviewProxyRoute } from '../../gateway/preview-proxy.js';
import { PreviewRegistry } from '../../gateway/preview-registry.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import { SqlChatBindings } from '../../store/sql-chat-bindings.js';
import { SqlPreviewRecords } from '../../store/sql-preview-records.js';
import {
  ChatShellSessions,
  type ChatShellSessionsOptions,
} from '../../worker/handlers/chat-shell-sessions.js';
import { ShellHandler } from '../../worker/handlers/shell-handler.js';
import { PreviewLeases } from '../../worker/preview-leases.js';
import type { DevbotModule, Runtime } from '../runtime.js';

/** What a sandbox provider is built from (before the runtime exists: the runtime holds it). */
export interface SandboxFactoryContext {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  role: Role;
  redis: Redis;
  /** Where the provider publishes preview sockets (the registry, shared through Redis by a worker). */
  previews: PreviewPublisher;
  /** This process's id: cloud sandboxes carry it, so other processes' reapers spare them while it lives. */
  instance?: string;
}

export interface SandboxModuleOptions {
  /** Chat sandboxes' idle close and retention sweep (tests shorten them). */
  chatShell?: Pick<ChatShellSessionsOptions, 'idleMs' | 'sweepEveryMs'>;
}

export interface SandboxModule extends DevbotModule {
  /** The one preview lifetime, for shell and dev previews. */
  previews: PreviewLeases;
  /** What produced each preview (the database), so links can come back or say they are gone. */
  previewRecords: SqlPreviewRecords;
  /** Runs `input.command` verbatim (the shell agent hands explicit commands to it). */
  shell: ShellHandler;
  /** Telegram chats' persistent sandboxes, cwd and history. */
  chatShell: ChatShellSessions;
}

export function createPreviewRegistry(config: Config, publicUrl: () => string): PreviewRegistry {
  // Slightly longer than the preview sandbox lives, so the link never outlives it by accident:
  // closing the sandbox unpublishes it first.
  return new PreviewRegistry({
    publicUrl,
    ttlSeconds: config.DEVBOT_PREVIEW_TTL + 60,
    previewUrlTemplate: config.DEVBOT_PREVIEW_URL,
  });
}

/** Preview routes shared between processes, under the deployment's queue prefix. */
export function previewDirectory(prefix: string, redis: Redis): PreviewDirectory {
  return new PreviewDirectory({ redis, prefix });
}

/** A worker without the gateway in its process shares its previews' tokens through Redis. */
export function previewPublisherFor(
  role: Role,
  registry: PreviewRegistry,
  directory: PreviewDirectory,
  internalUrl: () => string,
  worker?: string,
): PreviewPublisher {
  return role === 'worker' ? sharedPreviewPublisher(registry, directory, internalUrl, worker) : registry;
}

/** The provider for DEVBOT_SANDBOX: local bubblewrap (default) or E2B. */
export function defaultSandboxProvider(ctx: SandboxFactoryContext): SandboxProvider {
  const { config, logger } = ctx;
  if (config.DEVBOT_SANDBOX === 'e2b') {
    return new E2BSandboxProvider({
      apiKey: config.E2B_API_KEY ?? '',
      ...(config.E2B_TEMPLATE ? { template: config.E2B_TEMPLATE } : {}),
      timeoutMs: config.DEVBOT_SANDBOX_TIMEOUT_MS,
      outputLimit: config.DEVBOT_SANDBOX_OUTPUT_LIMIT,
      ...(ctx.instance ? { owner: ctx.instance } : {}),
    });
  }
  const log = logger.child({ module: 'sandbox' });
  return new LocalSandboxProvider({
    baseDir: join(config.dataDir, 'sandboxes'),
    previews: ctx.previews,
    timeoutMs: config.DEVBOT_SANDBOX_TIMEOUT_MS,
    outputLimit: config.DEVBOT_SANDBOX_OUTPUT_LIMIT,
    memoryMb: config.DEVBOT_SANDBOX_MEMORY_MB,
    maxProcs: config.DEVBOT_SANDBOX_MAX_PROCS,
    cpus: config.DEVBOT_SANDBOX_CPUS,
    diskMb: config.DEVBOT_SANDBOX_DISK_MB,
    tmpMb: config.DEVBOT_SANDBOX_TMP_MB,
    appArmorProfile: config.DEVBOT_APPARMOR_PROFILE,
    ...(config.DEVBOT_SANDBOX_NETWORK === 'allowlist'
      ? {
          network: {
            allowedDomains: config.DEVBOT_SANDBOX_ALLOWED_DOMAINS,
            onDenied: (host: string, reason: string) =>
              log.info({ host, reason }, 'sandbox network request refused'),
          },
        }
      : {}),
  });
}

export function createSandboxModule(
  runtime: Runtime,
  deps: {
    registry: PreviewRegistry;
    directory: PreviewDirectory;
    /** Brings an ended preview back (set once the repository hosts exist). */
    revive?: (token: string) => Promise<PreviewMiss>;
  },
  options: SandboxModuleOptions = {},
): SandboxModule {
  const previewRecords = new SqlPreviewRecords(runtime.sql);
  const { config } = runtime;
  const logger = runtime.logger.child({ module: 'sandbox' });
  const previews = new PreviewLeases({
    ttlMs: config.DEVBOT_PREVIEW_TTL * 1000,
    max: config.DEVBOT_PREVIEW_MAX,
    metrics: runtime.metrics,
    logger,
  });
  const chatShell = new ChatShellSessions({
    sandboxes: runtime.sandboxes,
    bindings: new SqlChatBindings(runtime.sql),
    logger: runtime.logger.child({ module: 'chat-shell' }),
    retentionMs: config.DEVBOT_CHAT_SANDBOX_RETENTION_DAYS * 24 * 60 * 60_000,
    network: config.DEVBOT_SANDBOX_NETWORK === 'allowlist',
    ...options.chatShell,
  });
  const shell = new ShellHandler({
    sessions: chatShell,
    sandboxes: runtime.sandboxes,
    previews,
    previewRecords,
    commandTimeoutMs: config.DEVBOT_SANDBOX_TIMEOUT_MS,
    metrics: runtime.metrics,
    logger,
  });
  const runsTasks = runtime.role === 'all' || runtime.role === 'worker';
  // A gateway (or `all`) that misses a token looks it up in Redis and forwards to the worker that
  // published it; a worker serves the route too (on DEVBOT_INTERNAL_URL), from its own registry.
  const forwards = runtime.role !== 'worker';
  return {
    name: 'sandbox',
    previews,
    previewRecords,
    shell,
    chatShell,
    routes: [
      createPreviewProxyRoute(deps.registry, {
        roles: ['all', 'gateway', 'worker'],
        ...(forwards ? { remote: (token: string) => deps.directory.lookup(token) } : {}),
        // Previews come back where they run: in a process that runs tasks, or (a gateway) in
        // whichever worker takes the revival from the `previews` queue.
        ...(deps.revive && (runsTasks || runtime.role === 'gateway') ? { revive: deps.revive } : {}),
        onServe: (sandboxId: string) => previews.touch(sandboxId),
      }),
    ],
    async start() {
      // Fail at start, not at the first task, when bwrap is missing; warm the first sandbox.
      if (!runsTasks) return;
      try {
        await runtime.sandboxes.check();
      } catch (err) {
        // Say so at start, loudly, but keep the rest of devbot (API, GitHub, Telegram) up: shell
        // and dev tasks fail with this same reason until the sandbox is fixed.
        if (!(err instanceof UnavailableError)) throw err;
        runtime.logger.error(
          { reason: err.message },
          `sandboxes are unavailable: ${err.message}; tasks that need one will fail until this is fixed (or set DEVBOT_SANDBOX=e2b)`,
        );
        return;
      }
      const warm = (runtime.sandboxes as { warmUp?: () => Promise<void> }).warmUp;
      if (warm) void warm.call(runtime.sandboxes).catch(() => {});
    },
    async stop() {
      // Previews first: in a chat's sandbox they hold its lease.
      await previews.stop();
      await chatShell.stop();
    },
  };
}
