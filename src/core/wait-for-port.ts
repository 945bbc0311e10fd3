/**
 * The one port wait: polls from inside the sandbox until something accepts connections on the
 * port, the server exits, the task is cancelled, or time runs out. Used by the shell fast lane's
 * previews and the crew's.
 */
import type { BackgroundProcess, Sandbox } from './sandbox.js';

export type PortWait = 'open' | 'exited' | 'aborted' | 'timeout';

export interface WaitForPortOptions {
  /** The server: when it exits first, waiting stops. */
  process?: BackgroundProcess;
  signal?: AbortSignal;
  timeoutMs: number;
  pollMs?: number;
}

/** Exits 0 once something accepts connections on the port (python3, else node). */
function probeCommand(port: number): string {
  const py = `python3 -c "import socket; socket.create_connection(('127.0.0.1', ${port}), 1).close()"`;
  const node = `node -e "require('net').connect(${port},'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))"`;
  return `if command -v python3 >/dev/null 2>&1; then ${py}; else ${node}; fi 2>/dev/null`;
}

export async function waitForPort(
  sandbox: Sandbox,
  port: number,
  options: WaitForPortOptions,
): Promise<PortWait> {
  let exited = false;
  void options.process?.done.then(
    () => {
      exited = true;
    },
    () => {
      exited = true;
    },
  );
  const probe = probeCommand(port);
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    if (options.signal?.aborted) return 'aborted';
    if (exited) return 'exited';
    const result = await sandbox.exec(probe, {
      timeoutMs: 5_000,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (result.exitCode === 0) return 'open';
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 150));
  }
  return 'timeout';
}
