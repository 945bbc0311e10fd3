/**
 * Runs the real `devbot` binary as a child process, the way a user does: `node bin/devbot.js ...`
 * (never through npx, which does not pass signals on). Every long-running child is tracked, and
 * `stopAllCli()` (call it in afterAll/afterEach) stops what is left: SIGTERM, then SIGKILL after a
 * deadline, so a failing test never leaves a devbot running.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const REPO_BIN = join(REPO_ROOT, 'bin', 'devbot.js');

/** Prefixes of variables a devbot reads, dropped from the inherited environment. */
const DEVBOT_VARS =
  /^(DEVBOT_|DATABASE_URL$|REDIS_URL$|PORT$|HOST$|LOG_|LOKI_URL$|NODE_ENV$|OPENAI_|TELEGRAM_|GITHUB_|E2B_|npm_)/;

/** This process's environment without anything devbot (or a parent npm) would pick up. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !DEVBOT_VARS.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Killed (SIGKILL) after this long; the result then has signal SIGKILL. */
  timeoutMs?: number;
  bin?: string;
}

const running = new Set<ChildProcess>();

/** Runs `devbot ARGS` to completion. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const child = spawnCli(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface RunningCli {
  child: ChildProcess;
  /** Everything written so far. */
  output(): { stdout: string; stderr: string };
  /** Resolves with the first stdout+stderr match of `pattern`; rejects when the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it ended. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a long-running `devbot ARGS` (e.g. `start`). */
export function startCli(args: readonly string[], options: CliOptions = {}): RunningCli {
  const child = spawnCli(args, options);
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const l of [...listeners]) l();
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    notify();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    notify();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      running.delete(child);
      notify();
      resolve({ code, signal });
    });
  });
  return {
    child,
    output: () => ({ stdout, stderr }),
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = (stdout + stderr).match(pattern);
          if (match) return done(() => resolve(match));
          if (child.exitCode !== null || child.signalCode !== null)
            return done(() =>
              reject(
                new Error(
                  `devbot exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}\nstdout: ${stdout}\nstderr: ${stderr}`,
                ),
              ),
            );
        };
        const timer = setTimeout(
          () =>
            done(() =>
              reject(new Error(`no ${pattern} within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`)),
            ),
          timeoutMs,
        );
        const done = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    stop: (graceMs = 15_000) => stopChild(child, exited, graceMs),
  };
}

/** Stops every child still running (SIGTERM, then SIGKILL). */
export async function stopAllCli(graceMs = 10_000): Promise<void> {
  await Promise.all(
    [...running].map((child) =>
      stopChild(
        child,
        new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal }))),
        graceMs,
      ),
    ),
  );
}

async function stopChild(
  child: ChildProcess,
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  graceMs: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    running.delete(child);
    return { code: child.exitCode, signal: child.signalCode };
  }
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
    running.delete(child);
  }
}

function spawnCli(args: readonly string[], options: CliOptions): ChildProcess {
  const child = spawn(process.execPath, [options.bin ?? REPO_BIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  return child;
}

/** A loopback port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
