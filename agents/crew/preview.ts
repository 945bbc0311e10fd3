/**
 * The preview step: when `.devbot.yml` names a preview (command and port), or package.json has a
 * `dev` or `start` script, start it in the sandbox, wait for the port to answer, and expose it.
 * A preview that does not come up is reported, not fatal: the change itself may still be good.
 */
import {
  type BackgroundProcess,
  type RepoConfig,
  type Sandbox,
  type TaskContext,
  waitForPort,
} from '../../src/core/index.js';
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
  const waited = await waitForPort(sandbox, spec.port, {
    process: proc,
    timeoutMs: options.waitMs ?? 20_000,
    pollMs: 250,
  });
  if (waited === 'open') {
    const url = await sandbox.exposePort(spec.port);
    await options.emit?.('preview_ready', { url, port: spec.port });
    return { url, port: spec.port, command: spec.command, process: proc };
  }
  const why = waited === 'exited' ? 'the preview command exited' : `nothing answered on port ${spec.port}`;
  await proc.kill().catch(() => {});
  return { url: null, port: spec.port, command: spec.command, error: why };
}
