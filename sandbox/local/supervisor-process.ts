import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { DevbotError, UnavailableError } from '../../src/core/errors.js';
import type { SandboxCommand } from './bwrap-args.js';

/** A message from the supervisor (see supervisor-script.ts). Untrusted: sandbox code shares its uid. */
export interface SupervisorMessage {
  id?: number;
  ev: 'ready' | 'started' | 'out' | 'exit' | 'ok' | 'err';
  s?: 1 | 2;
  d?: string;
  code?: number | null;
  truncated?: boolean;
  message?: string;
  [key: string]: unknown;
}

type Listener = (msg: SupervisorMessage) => void;

/** Longest line accepted from the supervisor; anything longer means it misbehaves. */
const MAX_LINE = 64 * 1024 * 1024;

/**
 * One running sandbox: the bwrap process, its pid-1 (from --info-fd) and a line protocol over
 * stdin/stdout. Killing pid 1 of the sandbox's PID namespace ends every process inside at once.
 */
export class SupervisorProcess {
  readonly #child: ChildProcess;
  readonly #listeners = new Map<number, Listener>();
  #nextId = 1;
  #pid1 = 0;
  #exited = false;
  readonly exited: Promise<void>;
  stderr = '';

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        this.#exited = true;
        for (const [id, listener] of this.#listeners) {
          listener({ id, ev: 'err', gone: true, message: `the sandbox ended${this.#stderrNote()}` });
        }
        this.#listeners.clear();
        resolve();
      });
    });
  }

  /** Starts the sandbox (bwrap) and resolves once the supervisor inside says it is ready. */
  static start(command: SandboxCommand, startTimeoutMs = 30_000): Promise<SupervisorProcess> {
    const fds = (command.files ?? []).map((file) => openSync(file, 'r'));
    let child: ChildProcess;
    try {
      child = spawn(command.command, command.args, {
        stdio: ['pipe', 'pipe', 'pipe', 'pipe', ...fds],
        env: {},
      });
    } finally {
      // The child has its own copies (or failed to start): ours are not needed either way.
      for (const fd of fds) closeSync(fd);
    }
    const sup = new SupervisorProcess(child);
    return new Promise((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => {
        sup.kill();
        reject(new UnavailableError('the sandbox did not start in time'));
      }, startTimeoutMs);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(
          new UnavailableError(
            'cannot run bwrap: install bubblewrap (apt-get install bubblewrap), or set DEVBOT_SANDBOX=e2b',
            { cause: err },
          ),
        );
      });
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        if (sup.stderr.length < 8192) sup.stderr += chunk;
      });
      readJson(child.stdio[3] as Readable, 64 * 1024, (info) => {
        const pid = (info as { 'child-pid'?: unknown })['child-pid'];
        if (typeof pid === 'number') sup.#pid1 = pid;
      });
      readLines(child.stdout as Readable, (line) => {
        if (line.length > MAX_LINE) return sup.kill();
        let msg: SupervisorMessage;
        try {
          msg = JSON.parse(line) as SupervisorMessage;
        } catch {
          return;
        }
        if (msg.ev === 'ready' && !ready) {
          ready = true;
          clearTimeout(timer);
          resolve(sup);
          return;
        }
        if (typeof msg.id === 'number') sup.#listeners.get(msg.id)?.(msg);
      });
      void sup.exited.then(() => {
        clearTimeout(timer);
        if (!ready) reject(new UnavailableError(`the sandbox failed to start${sup.#stderrNote()}`));
      });
    });
  }

  get alive(): boolean {
    return !this.#exited;
  }

  /** Sends a request; `listener` gets every message with its id until `release(id)`. */
  send(request: Record<string, unknown>, listener: Listener): number {
    const id = this.#nextId++;
    if (this.#exited) {
      queueMicrotask(() => listener({ id, ev: 'err', message: 'the sandbox is closed' }));
      return id;
    }
    this.#listeners.set(id, listener);
    this.#child.stdin?.write(`${JSON.stringify({ ...request, id })}\n`);
    return id;
  }

  release(id: number): void {
    this.#listeners.delete(id);
  }

  /**
   * One request, one answer (`ok` resolves, `err` rejects). With `timeoutMs`, no answer in time
   * rejects (and a late answer is dropped): what sandbox code can influence must not hang the host.
   */
  call(request: Record<string, unknown>, timeoutMs?: number): Promise<SupervisorMessage> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const id = this.send(request, (msg) => {
        this.release(id);
        clearTimeout(timer);
        if (msg.ev === 'ok') resolve(msg);
        else reject(new Error(msg.message ?? 'sandbox request failed'));
      });
      if (timeoutMs === undefined) return;
      timer = setTimeout(() => {
        this.release(id);
        reject(
          new DevbotError(
            'sandbox_error',
            `the sandbox did not answer ${String(request['op'])} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
    });
  }

  /** Kills every process in the sandbox (pid 1 of its namespace, then bwrap). */
  kill(): void {
    if (this.#exited) return;
    if (this.#pid1 > 0) {
      try {
        process.kill(this.#pid1, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.#child.kill('SIGKILL');
  }

  #stderrNote(): string {
    const text = this.stderr.trim();
    return text ? `: ${text.slice(0, 500)}` : '';
  }
}

function readLines(stream: Readable, onLine: (line: string) => void): void {
  stream.setEncoding('utf8');
  let buffer = '';
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      onLine(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
    }
    if (buffer.length > MAX_LINE) {
      onLine(buffer);
      buffer = '';
    }
  });
}

/** bwrap's --info-fd writes one JSON object; parse it once complete. */
function readJson(stream: Readable, limit: number, onValue: (value: unknown) => void): void {
  stream.setEncoding('utf8');
  let buffer = '';
  let done = false;
  stream.on('data', (chunk: string) => {
    if (done || buffer.length > limit) return;
    buffer += chunk;
    try {
      onValue(JSON.parse(buffer));
      done = true;
    } catch {
      // incomplete
    }
  });
}
