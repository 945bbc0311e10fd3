/**
 * A stand-in Sandbox for crew tests until sandbox/local is available: a temp directory as the
 * workspace (its real path is the workdir) and commands run with child_process. No isolation at all
 * — it exists to exercise the agents against real files and real test commands.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type {
  BackgroundProcess,
  ExecOptions,
  ExecResult,
  FileEntry,
  Sandbox,
} from '../../../src/core/index.js';

export interface DirSandbox extends Sandbox {
  /** Commands run so far, in order. */
  commands: string[];
  exposed: number[];
}

export async function createDirSandbox(seedDir?: string): Promise<DirSandbox> {
  const workdir = await mkdtemp(join(tmpdir(), 'devbot-dir-sandbox-'));
  // Like the repo pipeline's `git archive`: the sandbox gets the files, not the .git directory.
  if (seedDir)
    await cp(seedDir, workdir, { recursive: true, filter: (src) => !src.split('/').includes('.git') });
  const children = new Set<ReturnType<typeof spawn>>();
  const commands: string[] = [];
  const exposed: number[] = [];
  let closed = false;

  const run = (command: string, options: ExecOptions = {}) => {
    commands.push(command);
    const started = performance.now();
    const child = spawn('sh', ['-c', command], {
      cwd: options.cwd ?? workdir,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: workdir, ...options.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      options.onStdout?.(b.toString());
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      options.onStderr?.(b.toString());
    });
    const killTree = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {}
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killTree();
    }, options.timeoutMs ?? 60_000);
    options.signal?.addEventListener('abort', killTree, { once: true });
    const done = new Promise<ExecResult>((resolve) => {
      child.on('close', (code) => {
        clearTimeout(timer);
        children.delete(child);
        resolve({
          exitCode: code ?? 137,
          stdout,
          stderr,
          truncated: false,
          timedOut,
          durationMs: performance.now() - started,
        });
      });
    });
    return { child, done, killTree };
  };

  return {
    id: `dir-${workdir.split('-').pop()}`,
    provider: 'dir',
    workdir,
    commands,
    exposed,
    exec: async (command, options) => run(command, options).done,
    execBackground: async (command, options): Promise<BackgroundProcess> => {
      const { child, done, killTree } = run(command, { timeoutMs: 3_600_000, ...options });
      return {
        id: String(child.pid),
        done,
        kill: async () => {
          killTree();
          await done;
        },
      };
    },
    readFile: (path) => readFile(path, 'utf8'),
    writeFile: async (path, content) => {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
    },
    listFiles: async (path): Promise<FileEntry[]> => {
      const entries = await readdir(path, { withFileTypes: true });
      return Promise.all(
        entries.map(async (e) => {
          const full = join(path, e.name);
          return {
            name: e.name,
            path: full,
            type: e.isDirectory() ? ('dir' as const) : ('file' as const),
            size: e.isDirectory() ? 0 : (await stat(full)).size,
          };
        }),
      );
    },
    exposePort: async (port) => {
      exposed.push(port);
      return `http://127.0.0.1:${port}/`;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      for (const child of children) {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {}
      }
      await rm(workdir, { recursive: true, force: true });
    },
  };
}
