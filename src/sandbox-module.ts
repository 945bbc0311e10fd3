/**
 * The sandbox module: the `shell` task handler and the `/preview/` reverse proxy, plus the factory
 * that picks the sandbox provider for DEVBOT_SANDBOX. One PreviewRegistry is shared by the provider
 * (which publishes sockets) and the proxy (which serves them); with split roles the worker also
 * records its tokens in Redis and the gateway forwards to it (src/gateway/preview-directory.ts).
 */
import { join } from 'node:path';
import { E2BSandboxProvider } from '../sandbox/e2b/e2b-sandbox-provider.js';
import { LocalSandboxProvider } from '../sandbox/local/local-sandbox-provider.js';
import type { PreviewPublisher } from '../sandbox/preview-publisher.js';
import type { SandboxFactoryContext } from './app.js';
import type { Config } from './config/config.js';
import { UnavailableError } from './core/errors.js';
import type { SandboxProvider } from './core/sandbox.js';
import { PreviewDirectory, sharedPreviewPublisher } from './gateway/preview-directory.js';
import { createPreviewProxyRoute } from './gateway/preview-proxy.js';
import { PreviewRegistry } from './gateway/preview-registry.js';
import type { Logger } from './observability/logger.js';
import type { Metrics } from './observability/metrics.js';
import type { DevbotModule, ModuleFactory, Runtime } from './runtime.js';
import { ShellHandler } from './worker/handlers/shell-handler.js';
import type { ShellSessions } from './worker/handlers/shell-session.js';

export interface SandboxModuleOptions {
  /**
   * Long-lived shells for the shell handler (a Telegram chat's persistent sandbox, cwd and
   * history: src/telegram/chat-shell-sessions.ts). Without it every shell task gets a fresh
   * sandbox. The sandbox module stops them after its previews.
   */
  sessions?: (runtime: Runtime) => ShellSessions;
}

export function createPreviewRegistry(config: Config, publicUrl: () => string): PreviewRegistry {
  // Slightly longer than the preview sandbox lives, so the link never outlives it by accident:
  // closing the sandbox unpublishes it first.
  return new PreviewRegistry({ publicUrl, ttlSeconds: config.DEVBOT_PREVIEW_TTL + 60 });
}

export function createSandboxProvider(
  config: Config,
  deps: { previews: PreviewPublisher; metrics?: Metrics; logger?: Logger },
): SandboxProvider {
  if (config.DEVBOT_SANDBOX === 'e2b') {
    return new E2BSandboxProvider({
      apiKey: config.E2B_API_KEY ?? '',
      ...(config.E2B_TEMPLATE ? { template: config.E2B_TEMPLATE } : {}),
      timeoutMs: config.DEVBOT_SANDBOX_TIMEOUT_MS,
      outputLimit: config.DEVBOT_SANDBOX_OUTPUT_LIMIT,
    });
  }
  return new LocalSandboxProvider({
    baseDir: join(config.dataDir, 'sandboxes'),
    previews: deps.previews,
    timeoutMs: config.DEVBOT_SANDBOX_TIMEOUT_MS,
    outputLimit: config.DEVBOT_SANDBOX_OUTPUT_LIMIT,
    memoryMb: config.DEVBOT_SANDBOX_MEMORY_MB,
    maxProcs: config.DEVBOT_SANDBOX_MAX_PROCS,
    ...(config.DEVBOT_SANDBOX_NETWORK === 'allowlist'
      ? {
          network: {
            allowedDomains: config.DEVBOT_SANDBOX_ALLOWED_DOMAINS,
            ...(deps.logger
              ? {
                  onDenied: (host: string, reason: string) =>
                    deps.logger?.info({ host, reason }, 'sandbox network request refused'),
                }
              : {}),
          },
        }
      : {}),
  });
}

export function createSandboxModule(
  runtime: Runtime,
  deps: { previews: PreviewRegistry; sessions?: ShellSessions; directory?: PreviewDirectory },
): DevbotModule {
  const sessions = deps.sessions;
  const shell = new ShellHandler({
    ...(sessions ? { sessions } : {}),
    sandboxes: runtime.sandboxes,
    previewTtlSeconds: runtime.config.DEVBOT_PREVIEW_TTL,
    commandTimeoutMs: runtime.config.DEVBOT_SANDBOX_TIMEOUT_MS,
    metrics: runtime.metrics,
    logger: runtime.logger.child({ module: 'sandbox' }),
  });
  const runsTasks = runtime.role === 'all' || runtime.role === 'worker';
  return {
    name: 'sandbox',
    handlers: runsTasks ? { shell: shell.handle } : {},
    routes: [previewRoute(runtime, deps.previews, deps.directory)],
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
      await shell.stop();
      await sessions?.stop?.();
    },
  };
}

/**
 * `/preview/<token>/`: served from this process's registry. A gateway (or `all`) that misses
 * looks the token up in Redis and forwards to the worker that published it; a worker serves the
 * route too (on DEVBOT_INTERNAL_URL), from its own registry only.
 */
function previewRoute(runtime: Runtime, previews: PreviewRegistry, directory: PreviewDirectory | undefined) {
  const forwards = runtime.role !== 'worker' && directory !== undefined;
  return createPreviewProxyRoute(previews, {
    roles: ['all', 'gateway', 'worker'],
    ...(forwards ? { remote: (token: string) => directory.lookup(token) } : {}),
  });
}

/**
 * Both halves for startDevbot, sharing one PreviewRegistry:
 *   const sandbox = sandboxWiring();
 *   startDevbot({ config, sandboxes: sandbox.sandboxes, modules: [...defaultModules(), sandbox.module] })
 */
export function sandboxWiring(options: SandboxModuleOptions = {}): {
  sandboxes: (ctx: SandboxFactoryContext) => SandboxProvider;
  module: ModuleFactory;
} {
  let previews: PreviewRegistry | null = null;
  const directoryOf = (ctx: { config: Config; redis: Runtime['redis'] }) =>
    new PreviewDirectory({ redis: ctx.redis, prefix: ctx.config.DEVBOT_QUEUE_PREFIX });
  return {
    sandboxes: (ctx) => {
      const registry = createPreviewRegistry(ctx.config, ctx.publicUrl);
      previews = registry;
      // A worker without the gateway in its process shares its previews' tokens through Redis.
      const publisher =
        ctx.role === 'worker'
          ? sharedPreviewPublisher(registry, directoryOf(ctx), ctx.internalUrl)
          : registry;
      return createSandboxProvider(ctx.config, {
        previews: publisher,
        metrics: ctx.metrics,
        logger: ctx.logger.child({ module: 'sandbox' }),
      });
    },
    module: (runtime) => {
      previews ??= createPreviewRegistry(runtime.config, runtime.publicUrl);
      const sessions = options.sessions?.(runtime);
      return createSandboxModule(runtime, {
        previews,
        directory: directoryOf(runtime),
        ...(sessions ? { sessions } : {}),
      });
    },
  };
}
