import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, unlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { BadInputError, DevbotError } from '../../src/core/errors.js';
import type { PreviewPublisher } from '../../src/core/preview-publisher.js';
import type {
  BackgroundProcess,
  ExecOptions,
  ExecResult,
  FileEntry,
  Sandbox,
} from '../../src/core/sandbox.js';
import { SANDBOX_PATH, SANDBOX_RUN_DIR, SANDBOX_WORKDIR } from './bwrap-args.js';
import type { SupervisorMessage, SupervisorProcess } from './supervisor-process.js';

export interface LocalSandboxSettings {
  id: string;
  dir: string;
  supervisor: SupervisorProcess;
  previews: PreviewPublisher;
  defaultTimeoutMs: number;
  /** Longest wait for the supervisor to answer a file operation or a preview/egress request. */
  requestTimeoutMs: number;
  outputLimit: number;
  /** Keep the workspace on close (a chat's sandbox, reattached later with connect). */
  persistent: boolean;
  onClose: (id: string) => void;
  /** Variables every command gets (the egress proxy's, for a sandbox with network access). */
  env?: Record<string, string>;
  /** Runs when the sandbox closes, after its processes are gone (the egress proxy). */
  cleanup?: () => Promise<void>;
  /**
   * Runs last on close: the provider removes what it made for the sandbox (its cgroup; its
   * directory, or for a persistent one only what does not outlive a close).
   */
  release: () => Promise<void>;
}

/** Exit code reported when devbot killed the command at its time limit (as timeout(1) does). */
export const TIMEOUT_EXIT_CODE = 124;
/** How long to wait for the supervisor to confirm a kill before tearing the sandbox down. */
const KILL_GRACE_MS = 5_000;

export function truncationMarker(limit: number): string {
  return `\n[devbot: output truncated after ${limit} bytes]`;
}

export class LocalSandbox implements Sandbox {
  readonly provider = 'local';
  readonly workdir = SANDBOX_WORKDIR;
  readonly id: string;
  readonly network: boolean;
  readonly #s: LocalSandboxSettings;
  #closed: Promise<void> | null = null;

  constructor(settings: LocalSandboxSettings) {
    this.#s = settings;
    this.id = settings.id;
    this.network = settings.env !== undefined;
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return this.#start(command, options, options.timeoutMs ?? this.#s.defaultTimeoutMs).done;
  }

  async execBackground(command: string, options: ExecOptions = {}): Promise<BackgroundProcess> {
    // A dev server runs until killed or the sandbox closes; only an explicit timeout applies.
    const run = this.#start(command, options, options.timeoutMs);
    await run.started;
    return { id: run.id, done: run.done, kill: run.kill };
  }

  #start(
    command: string,
    options: ExecOptions,
    timeoutMs: number | undefined,
  ): { id: string; started: Promise<void>; done: Promise<ExecResult>; kill: () => Promise<void> } {
    this.#assertOpen();
    const sup = this.#s.supervisor;
    const limit = this.#s.outputLimit;
    const startedAt = performance.now();
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    let timeoutTimer: NodeJS.Timeout | undefined;
    let onStarted: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      onStarted = resolve;
    });
    let id = 0;
    const kill = async (): Promise<void> => {
      if (id === 0) return;
      // If the supervisor does not confirm in time, the whole sandbox goes: a command must die.
      killTimer ??= setTimeout(() => sup.kill(), KILL_GRACE_MS);
      await sup.call({ op: 'kill', target: id }).catch(() => sup.kill());
    };
    const onAbort = () => void kill();
    const done = new Promise<ExecResult>((resolve, reject) => {
      id = sup.send(
        {
          op: 'exec',
          command,
          cwd: options.cwd ?? SANDBOX_WORKDIR,
          env: sandboxEnv({ ...this.#s.env, ...options.env }),
          cap: limit,
        },
        (msg: SupervisorMessage) => {
          if (msg.ev === 'started') return onStarted();
          if (msg.ev === 'out' && typeof msg.d === 'string') {
            // The supervisor caps output too; this is the host's own bound in case it does not.
            const room = limit - stdout.length - stderr.length;
            if (room <= 0) return;
            const text = msg.d.length > room ? msg.d.slice(0, room) : msg.d;
            if (msg.s === 2) {
              stderr += text;
              options.onStderr?.(text);
            } else {
              stdout += text;
              options.onStdout?.(text);
            }
            return;
          }
          sup.release(id);
          clearTimeout(killTimer);
          clearTimeout(timeoutTimer);
          options.signal?.removeEventListener('abort', onAbort);
          onStarted();
          if (msg.ev === 'err' && msg.gone !== true) {
            reject(new DevbotError('sandbox_error', msg.message ?? 'the command could not run'));
            return;
          }
          const truncated = msg.truncated === true || stdout.length + stderr.length >= limit;
          if (truncated) {
            const marker = truncationMarker(limit);
            stdout += marker;
            options.onStdout?.(marker);
          }
          // A command still running when its sandbox closes counts as killed (128 + SIGKILL).
          const code = typeof msg.code === 'number' ? msg.code : 137;
          resolve({
            exitCode: timedOut ? TIMEOUT_EXIT_CODE : code,
            stdout,
            stderr,
            truncated,
            timedOut,
            durationMs: Math.round(performance.now() - startedAt),
          });
        },
      );
    });
    if (timeoutMs !== undefined) {
      timeoutTimer = setTimeout(() => {
        timedOut = true;
        void kill();
      }, timeoutMs);
    }
    if (options.signal) {
      if (options.signal.aborted) void kill();
      else options.signal.addEventListener('abort', onAbort, { once: true });
    }
    return { id: `${this.id}:${id}`, started, done, kill };
  }

  async readFile(path: string): Promise<string> {
    this.#assertOpen();
    const msg = await this.#call({ op: 'read', path: this.#path(path) });
    return typeof msg.data === 'string' ? msg.data : '';
  }

  async writeFile(path: string, content: string): Promise<void> {
    this.#assertOpen();
    await this.#call({ op: 'write', path: this.#path(path), data: content });
  }

  async listFiles(path: string): Promise<FileEntry[]> {
    this.#assertOpen();
    const msg = await this.#call({ op: 'list', path: this.#path(path) });
    return Array.isArray(msg.entries) ? (msg.entries as FileEntry[]) : [];
  }

  async exposePort(port: number): Promise<string> {
    this.#assertOpen();
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new BadInputError(`port must be 1-65535, got ${port}`);
    const name = `p${port}-${randomBytes(6).toString('hex')}.sock`;
    await this.#call({ op: 'expose', port, path: posix.join(SANDBOX_RUN_DIR, name) });
    // The run dir is writable from inside, so sandbox code could swap the socket for a symlink to
    // a host socket. A hard link into a host-only dir pins the inode (link() never follows a
    // symlink and cannot cross mounts), and lstat proves it is a socket.
    const socketsDir = join(this.#s.dir, 'sockets');
    await mkdir(socketsDir, { recursive: true, mode: 0o700 });
    const pinned = join(socketsDir, name);
    await link(join(this.#s.dir, 'run', name), pinned);
    const stat = await lstat(pinned);
    if (!stat.isSocket()) {
      await unlink(pinned).catch(() => {});
      throw new DevbotError('sandbox_error', 'the preview forwarder socket was replaced');
    }
    return this.#s.previews.publish({ sandboxId: this.id, port, socketPath: pinned });
  }

  close(): Promise<void> {
    this.#closed ??= this.#doClose();
    return this.#closed;
  }

  async #doClose(): Promise<void> {
    this.#s.previews.unpublishSandbox(this.id);
    this.#s.supervisor.kill();
    await this.#s.supervisor.exited;
    await this.#s.cleanup?.().catch(() => {});
    this.#s.onClose(this.id);
    await this.#s.release();
  }

  #assertOpen(): void {
    if (this.#closed || !this.#s.supervisor.alive)
      throw new DevbotError('sandbox_closed', `sandbox ${this.id} is closed`);
  }

  #call(request: Record<string, unknown>): Promise<SupervisorMessage> {
    return this.#s.supervisor.call(request, this.#s.requestTimeoutMs);
  }

  #path(path: string): string {
    return posix.isAbsolute(path) ? path : posix.join(SANDBOX_WORKDIR, path);
  }
}

/** A clean environment: never the host's, only what every command needs plus the caller's. */
export function sandboxEnv(extra: Record<string, string> | undefined): Record<string, string> {
  return {
    PATH: SANDBOX_PATH,
    HOME: SANDBOX_WORKDIR,
    LANG: 'C.UTF-8',
    TMPDIR: '/tmp',
    USER: 'devbot',
    ...extra,
  };
}
