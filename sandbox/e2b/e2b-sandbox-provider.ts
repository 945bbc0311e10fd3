import { Sandbox as E2BSandboxClass } from 'e2b';
import { DevbotError, UnavailableError } from '../../src/core/errors.js';
import type {
  BackgroundProcess,
  ExecOptions,
  ExecResult,
  FileEntry,
  Sandbox,
  SandboxCreateOptions,
  SandboxProvider,
} from '../../src/core/sandbox.js';

/** The slice of the e2b SDK devbot uses; tests inject a fake with this shape. */
export interface E2BCommandHandle {
  readonly pid: number;
  wait(): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  kill(): Promise<boolean>;
}

export interface E2BRunOptions {
  background: true;
  cwd?: string;
  envs?: Record<string, string>;
  /** 0 disables the SDK's own command timeout (60 s by default). */
  timeoutMs: number;
  onStdout: (data: string) => void;
  onStderr: (data: string) => void;
}

export interface E2BSandboxLike {
  readonly sandboxId: string;
  commands: { run(cmd: string, opts: E2BRunOptions): Promise<E2BCommandHandle> };
  files: {
    read(path: string): Promise<string>;
    write(path: string, data: string): Promise<unknown>;
    list(path: string): Promise<{ name: string; path: string; type?: string; size: number }[]>;
  };
  getHost(port: number): string;
  setTimeout(timeoutMs: number): Promise<void>;
  kill(): Promise<boolean>;
}

export interface E2BSdk {
  create(opts: {
    template?: string;
    apiKey: string;
    timeoutMs: number;
    metadata: Record<string, string>;
    /** Outbound internet; E2B allows it unless told otherwise. */
    allowInternetAccess: boolean;
  }): Promise<E2BSandboxLike>;
  connect(sandboxId: string, opts: { apiKey: string; timeoutMs: number }): Promise<E2BSandboxLike>;
  list(opts: {
    apiKey: string;
    metadata: Record<string, string>;
  }): Promise<{ sandboxId: string; metadata: Record<string, string> }[]>;
  kill(sandboxId: string, opts: { apiKey: string }): Promise<boolean>;
}

export interface E2BSandboxProviderOptions {
  apiKey: string;
  template?: string;
  /** Sandbox lifetime, renewed while the sandbox is open (half-way through each period). */
  timeoutMs?: number;
  /** Default per-command time limit. */
  commandTimeoutMs?: number;
  outputLimit?: number;
  /**
   * This process's id, stamped on the sandboxes it creates (`owner`), so that another process's
   * reaper leaves them alone while this one is alive (a preview held after its task ended).
   */
  owner?: string;
  sdk?: E2BSdk;
}

/** Metadata every devbot sandbox carries, so leaked ones can be found and reaped. */
const APP_TAG = { app: 'devbot' };
const WORKDIR = '/home/user';

/** The real SDK behind the E2BSdk seam. */
export const defaultE2BSdk: E2BSdk = {
  create: ({ template, ...opts }) =>
    (template
      ? E2BSandboxClass.create(template, opts)
      : E2BSandboxClass.create(opts)) as unknown as Promise<E2BSandboxLike>,
  connect: (id, opts) => E2BSandboxClass.connect(id, opts) as unknown as Promise<E2BSandboxLike>,
  list: async ({ apiKey, metadata }) => {
    const pages = E2BSandboxClass.list({ apiKey, query: { metadata } });
    const out: { sandboxId: string; metadata: Record<string, string> }[] = [];
    while (pages.hasNext) {
      for (const info of await pages.nextItems())
        out.push({ sandboxId: info.sandboxId, metadata: info.metadata });
    }
    return out;
  },
  kill: (id, opts) => E2BSandboxClass.kill(id, opts),
};

export class E2BSandboxProvider implements SandboxProvider {
  readonly name = 'e2b';
  readonly #o: Required<Omit<E2BSandboxProviderOptions, 'template' | 'owner'>> & {
    template?: string;
    owner?: string;
  };
  readonly #live = new Set<E2BSandbox>();

  constructor(options: E2BSandboxProviderOptions) {
    this.#o = {
      timeoutMs: 10 * 60_000,
      commandTimeoutMs: 10 * 60_000,
      outputLimit: 1_000_000,
      sdk: defaultE2BSdk,
      ...options,
    };
  }

  async check(): Promise<void> {
    if (!this.#o.apiKey) throw new UnavailableError('E2B_API_KEY is not set (get one at e2b.dev)');
  }

  async create(options: SandboxCreateOptions): Promise<Sandbox> {
    await this.check();
    const timeoutMs = options.timeoutMs ?? this.#o.timeoutMs;
    const raw = await this.#o.sdk.create({
      ...(this.#o.template ? { template: this.#o.template } : {}),
      apiKey: this.#o.apiKey,
      timeoutMs,
      // A chat's persistent sandbox outlives the task that created it: the reaper leaves it alone.
      metadata: {
        ...APP_TAG,
        taskId: options.taskId,
        ...(this.#o.owner ? { owner: this.#o.owner } : {}),
        ...(options.persistent ? { persistent: 'true' } : {}),
      },
      // No network unless the task asks for it (E2B has no domain allowlist: it is all or nothing).
      allowInternetAccess: options.network === true,
    });
    return this.#wrap(raw, timeoutMs, options.persistent ?? false, options.network === true);
  }

  async connect(id: string): Promise<Sandbox | null> {
    await this.check();
    try {
      const raw = await this.#o.sdk.connect(id, { apiKey: this.#o.apiKey, timeoutMs: this.#o.timeoutMs });
      // Whether it was made with internet is not known here: say no (the agent then does not rely on it).
      return this.#wrap(raw, this.#o.timeoutMs, true, false);
    } catch {
      return null;
    }
  }

  /** Kills the sandbox by id (a persistent one too); its files go with it. */
  async destroy(id: string): Promise<void> {
    await this.check();
    for (const live of this.#live) if (live.id === id) await live.close();
    await this.#o.sdk.kill(id, { apiKey: this.#o.apiKey });
  }

  /**
   * Kills devbot's sandboxes whose task has ended (a worker crashed before closing them).
   * A sandbox open here, a chat's persistent one, and one whose owner is another process that is
   * still alive (it holds the sandbox as a preview after the task, and closes it when the preview
   * ends) are left alone. Returns the ids it killed.
   */
  async reap(
    isTaskFinished: (taskId: string) => Promise<boolean>,
    isOwnerAlive: (owner: string) => Promise<boolean> = async () => false,
  ): Promise<string[]> {
    const killed: string[] = [];
    const open = new Set([...this.#live].map((s) => s.id));
    for (const info of await this.#o.sdk.list({ apiKey: this.#o.apiKey, metadata: APP_TAG })) {
      const taskId = info.metadata['taskId'];
      if (open.has(info.sandboxId) || !taskId || info.metadata['persistent'] === 'true') continue;
      if (!(await isTaskFinished(taskId))) continue;
      const owner = info.metadata['owner'];
      // Our own sandbox that is not open here has leaked; another live process's is its business.
      if (owner && owner !== this.#o.owner && (await isOwnerAlive(owner))) continue;
      await this.#o.sdk.kill(info.sandboxId, { apiKey: this.#o.apiKey });
      killed.push(info.sandboxId);
    }
    return killed;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#live].map((s) => s.close()));
  }

  #wrap(raw: E2BSandboxLike, timeoutMs: number, persistent: boolean, network: boolean): E2BSandbox {
    const sandbox = new E2BSandbox(raw, {
      network,
      timeoutMs,
      commandTimeoutMs: this.#o.commandTimeoutMs,
      outputLimit: this.#o.outputLimit,
      persistent,
      onClose: (s) => this.#live.delete(s),
    });
    this.#live.add(sandbox);
    return sandbox;
  }
}

interface E2BSandboxSettings {
  network: boolean;
  timeoutMs: number;
  commandTimeoutMs: number;
  outputLimit: number;
  persistent: boolean;
  onClose: (sandbox: E2BSandbox) => void;
}

export class E2BSandbox implements Sandbox {
  readonly provider = 'e2b';
  readonly workdir = WORKDIR;
  readonly network: boolean;
  readonly #raw: E2BSandboxLike;
  readonly #s: E2BSandboxSettings;
  readonly #renew: NodeJS.Timeout;
  #closed: Promise<void> | null = null;

  constructor(raw: E2BSandboxLike, settings: E2BSandboxSettings) {
    this.#raw = raw;
    this.#s = settings;
    this.network = settings.network;
    // E2B kills a sandbox at its timeout; renew half-way while devbot still holds it open.
    this.#renew = setInterval(
      () => void this.keepAlive(settings.timeoutMs).catch(() => {}),
      settings.timeoutMs / 2,
    );
    this.#renew.unref();
  }

  get id(): string {
    return this.#raw.sandboxId;
  }

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return this.#start(command, options, options.timeoutMs ?? this.#s.commandTimeoutMs).then(
      (run) => run.done,
    );
  }

  async execBackground(command: string, options: ExecOptions = {}): Promise<BackgroundProcess> {
    const run = await this.#start(command, options, options.timeoutMs);
    return { id: String(run.handle.pid), done: run.done, kill: run.kill };
  }

  async #start(
    command: string,
    options: ExecOptions,
    timeoutMs: number | undefined,
  ): Promise<{ handle: E2BCommandHandle; done: Promise<ExecResult>; kill: () => Promise<void> }> {
    this.#assertOpen();
    const limit = this.#s.outputLimit;
    const startedAt = performance.now();
    let stdout = '';
    let stderr = '';
    let truncated = false;
    let timedOut = false;
    const take = (text: string, stream: 'stdout' | 'stderr') => {
      const room = limit - stdout.length - stderr.length;
      if (room <= 0) {
        truncated = true;
        return;
      }
      const kept = text.length > room ? text.slice(0, room) : text;
      if (kept.length < text.length) truncated = true;
      if (stream === 'stdout') {
        stdout += kept;
        options.onStdout?.(kept);
      } else {
        stderr += kept;
        options.onStderr?.(kept);
      }
    };
    const handle = await this.#raw.commands.run(command, {
      background: true,
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.env ? { envs: options.env } : {}),
      timeoutMs: 0,
      onStdout: (d) => take(d, 'stdout'),
      onStderr: (d) => take(d, 'stderr'),
    });
    const kill = async () => {
      await handle.kill().catch(() => false);
    };
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            void kill();
          }, timeoutMs);
    const onAbort = () => void kill();
    if (options.signal?.aborted) void kill();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const done = handle
      .wait()
      .then(
        (r) => r.exitCode,
        // The SDK throws CommandExitError for a non-zero exit; its exitCode is what we want.
        (err: unknown) => {
          const code = (err as { exitCode?: unknown }).exitCode;
          if (typeof code === 'number') return code;
          throw new DevbotError('sandbox_error', 'the E2B command failed', { cause: err });
        },
      )
      .then((code) => {
        if (truncated) {
          const marker = `\n[devbot: output truncated after ${limit} bytes]`;
          stdout += marker;
          options.onStdout?.(marker);
        }
        return {
          exitCode: timedOut ? 124 : code,
          stdout,
          stderr,
          truncated,
          timedOut,
          durationMs: Math.round(performance.now() - startedAt),
        };
      })
      .finally(() => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
      });
    return { handle, done, kill };
  }

  async readFile(path: string): Promise<string> {
    this.#assertOpen();
    return this.#raw.files.read(this.#path(path));
  }

  async writeFile(path: string, content: string): Promise<void> {
    this.#assertOpen();
    await this.#raw.files.write(this.#path(path), content);
  }

  async listFiles(path: string): Promise<FileEntry[]> {
    this.#assertOpen();
    const entries = await this.#raw.files.list(this.#path(path));
    return entries
      .map((e) => ({
        name: e.name,
        path: e.path,
        type: e.type === 'dir' ? ('dir' as const) : ('file' as const),
        size: e.size,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async exposePort(port: number): Promise<string> {
    this.#assertOpen();
    return `https://${this.#raw.getHost(port)}/`;
  }

  async keepAlive(ms: number): Promise<void> {
    if (this.#closed) return;
    await this.#raw.setTimeout(ms);
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      clearInterval(this.#renew);
      this.#s.onClose(this);
      // A persistent (chat) sandbox is left to its timeout so connect() can find it again.
      if (!this.#s.persistent) await this.#raw.kill().catch(() => false);
    })();
    return this.#closed;
  }

  #assertOpen(): void {
    if (this.#closed) throw new DevbotError('sandbox_closed', `sandbox ${this.id} is closed`);
  }

  #path(path: string): string {
    return path.startsWith('/') ? path : `${WORKDIR}/${path}`;
  }
}
