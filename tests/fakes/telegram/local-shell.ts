/**
 * A stand-in for the sandbox module's shell handler in the Telegram end-to-end tests: it runs the
 * command with bash in a temp directory on this machine and emits the same events (command.started,
 * output, command.finished, preview_ready). A command ending in `python3 -m http.server <port>` is
 * started in the background on a free port instead (the real sandbox maps ports through its
 * forwarder), and the preview URL is stored with the task.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskHandler } from '../../../src/core/index.js';

export interface LocalShell {
  handler: TaskHandler;
  close(): void;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function waitForHttp(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await (await fetch(url)).arrayBuffer();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`preview at ${url} never answered`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export function localShell(): LocalShell {
  const dirs: string[] = [];
  const servers: ChildProcess[] = [];
  const handler: TaskHandler = async (ctx) => {
    const command = String(ctx.task.input.command ?? ctx.task.prompt);
    const cwd = mkdtempSync(join(tmpdir(), 'devbot-tg-shell-'));
    dirs.push(cwd);
    await ctx.emit('command.started', { command });
    const server = /^(.*?)(?:&&\s*)?python3 -m http\.server (\d+)\s*$/.exec(command);
    const foreground = server ? (server[1] ?? '').trim().replace(/&&\s*$/, '') : command;
    const started = Date.now();
    const exitCode = foreground
      ? await new Promise<number>((resolve) => {
          const child = spawn('bash', ['-c', foreground], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
          // Events keep their order: each output chunk is emitted after the previous one.
          let emitted: Promise<unknown> = Promise.resolve();
          const forward = (stream: string) => (d: Buffer) => {
            emitted = emitted.then(() => ctx.emit('output', { stream, text: d.toString() }));
          };
          child.stdout.on('data', forward('stdout'));
          child.stderr.on('data', forward('stderr'));
          child.on('close', (code) => void emitted.then(() => resolve(code ?? 1)));
        })
      : 0;
    await ctx.emit('command.finished', {
      command,
      exitCode,
      durationMs: Date.now() - started,
      truncated: false,
    });
    if (server && exitCode === 0) {
      const port = await freePort();
      const child = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1'], {
        cwd,
        stdio: 'ignore',
      });
      servers.push(child);
      const url = `http://127.0.0.1:${port}/`;
      await waitForHttp(url);
      await ctx.emit('preview_ready', { url, port: Number(server[2]) });
      await ctx.patch({ previewUrl: url });
    }
    return { summary: `exit code ${exitCode}`, result: { exitCode } };
  };
  return {
    handler,
    close() {
      for (const child of servers) child.kill('SIGKILL');
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}
