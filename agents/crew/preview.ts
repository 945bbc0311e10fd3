/**
 * The preview step: when `.devbot.yml` names a preview (command and port), or package.json has a
 * `dev` or `start` script, start it in the sandbox, wait for the port to answer, and expose it.
 * A preview that does not come up is reported, not fatal: the change itself may still be good.
 */
import type { BackgroundProcess, Sandbox, TaskContext } from '../../src/core/index.js';
import type { RepoConfig } from '../repo-config.js';
import { readOptional } from './repo-map.js';

export interface PreviewSpec {
  command: string;
  port: number;
}

export interface PreviewOutcome {
  url: string | null;
  port: number;
  command: string;
  error?: string;
  process?: BackgroundProcess;
}

const DEFAULT_PORT = 3000;

export async function detectPreview(sandbox: Sandbox, config: RepoConfig): Promise<PreviewSpec | null> {
  if (config.preview) return config.preview;
  const pkgText = await readOptional(sandbox, `${sandbox.workdir}/package.json`);
  if (!pkgText) return null;
  let scripts: Record<string, string> = {};
  try {
    scripts = (JSON.parse(pkgText) as { scripts?: Record<string, string> }).scripts ?? {};
  } catch {
    return null;
  }
  const name = scripts['dev'] ? 'dev' : scripts['start'] ? 'start' : null;
  if (!name) return null;
  const script = scripts[name] ?? '';
  const port = Number(/(?:--port[ =]|PORT=|-p )(\d{2,5})/.exec(script)?.[1] ?? DEFAULT_PORT);
  return { command: `npm run ${name}`, port };
}

export async function startPreview(options: {
  sandbox: Sandbox;
  spec: PreviewSpec;
  emit?: TaskContext['emit'];
  waitMs?: number;
}): Promise<PreviewOutcome> {
  const { sandbox, spec } = options;
  const proc = await sandbox.execBackground(spec.command, {
    cwd: sandbox.workdir,
    env: { PORT: String(spec.port), HOST: '127.0.0.1' },
  });
  let exited = false;
  void proc.done.then(() => {
    exited = true;
  });
  const deadline = Date.now() + (options.waitMs ?? 20_000);
  const probe = probeCommand(spec.port);
  while (Date.now() < deadline && !exited) {
    const r = await sandbox.exec(probe, { timeoutMs: 5_000 });
    if (r.exitCode === 0) {
      const url = await sandbox.exposePort(spec.port);
      await options.emit?.('preview_ready', { url, port: spec.port });
      return { url, port: spec.port, command: spec.command, process: proc };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const why = exited ? 'the preview command exited' : `nothing answered on port ${spec.port}`;
  await proc.kill().catch(() => {});
  return { url: null, port: spec.port, command: spec.command, error: why };
}

/** Exits 0 once something accepts connections on the port (node or python3, whichever exists). */
function probeCommand(port: number): string {
  const node = `node -e "require('net').connect(${port},'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))"`;
  const py = `python3 -c "import socket;socket.create_connection(('127.0.0.1',${port}),1)"`;
  return `if command -v node >/dev/null 2>&1; then ${node}; else ${py}; fi`;
}
