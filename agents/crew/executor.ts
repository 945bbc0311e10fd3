/**
 * The executor: runs the repository's setup (once), test and lint commands from `.devbot.yml`, or
 * ones detected from the repository (package.json scripts, a Makefile, pytest/unittest layouts).
 * Its report goes back to the coder when a check fails.
 */
import type { ExecResult, Sandbox, TaskContext } from '../../src/core/index.js';
import type { RepoConfig } from '../../src/core/repo-config.js';
import { clip } from '../llm/tool-loop.js';
import { readOptional } from './repo-map.js';

export interface Checks {
  setup: string[];
  /** test and lint commands, run every round. */
  checks: Array<{ kind: 'test' | 'lint'; command: string }>;
  /** Where the commands came from, for the report. */
  source: 'config' | 'detected' | 'none';
}

export interface CheckRun {
  kind: 'setup' | 'test' | 'lint';
  command: string;
  exitCode: number;
  timedOut: boolean;
  durationMs: number;
  /** The tail of stdout+stderr. */
  output: string;
  /** Not run again: the coder's own last run of the same command passed, with nothing changed since. */
  reused?: boolean;
}

export interface ExecutorReport {
  ok: boolean;
  runs: CheckRun[];
  tests: { passed: number; failed: number };
}

const NPM_DEFAULT_TEST = 'echo "Error: no test specified" && exit 1';

export interface DetectOptions {
  /** The sandbox can reach package registries: a Node lockfile then means installing first. */
  network?: boolean;
}

export async function detectChecks(
  sandbox: Sandbox,
  config: RepoConfig,
  options: DetectOptions = {},
): Promise<Checks> {
  const setup = config.setup ?? (options.network ? await detectInstall(sandbox) : []);
  if (config.test || config.lint || config.setup)
    return {
      setup,
      checks: [
        ...(config.test ?? []).map((command) => ({ kind: 'test' as const, command })),
        ...(config.lint ?? []).map((command) => ({ kind: 'lint' as const, command })),
      ],
      source: 'config',
    };
  const root = sandbox.workdir;
  const checks: Checks['checks'] = [];
  const pkgText = await readOptional(sandbox, `${root}/package.json`);
  if (pkgText) {
    const scripts = safeScripts(pkgText);
    if (scripts['test'] && scripts['test'] !== NPM_DEFAULT_TEST)
      checks.push({ kind: 'test', command: 'npm test' });
    if (scripts['lint']) checks.push({ kind: 'lint', command: 'npm run lint' });
  }
  if (checks.length === 0) {
    const makefile = await readOptional(sandbox, `${root}/Makefile`);
    if (makefile && /^test\s*:/m.test(makefile)) checks.push({ kind: 'test', command: 'make test' });
    if (makefile && /^lint\s*:/m.test(makefile)) checks.push({ kind: 'lint', command: 'make lint' });
  }
  if (checks.length === 0) {
    const python = await detectPython(sandbox);
    if (python) checks.push({ kind: 'test', command: python });
  }
  return { setup: checks.length > 0 ? setup : [], checks, source: checks.length > 0 ? 'detected' : 'none' };
}

/**
 * The install step a Node repository needs before its checks, from its lockfile, when the copy
 * has no node_modules (the repository arrives without them). Only with network access.
 */
async function detectInstall(sandbox: Sandbox): Promise<string[]> {
  const root = sandbox.workdir;
  const names = await sandbox
    .listFiles(root)
    .then((e) => new Set(e.map((x) => x.name)))
    .catch(() => new Set<string>());
  if (!names.has('package.json') || names.has('node_modules')) return [];
  if (names.has('package-lock.json') || names.has('npm-shrinkwrap.json'))
    return ['npm ci --no-audit --no-fund'];
  if (names.has('pnpm-lock.yaml')) return ['corepack pnpm install --frozen-lockfile'];
  if (names.has('yarn.lock')) return ['corepack yarn install --frozen-lockfile'];
  return [];
}

function safeScripts(pkgText: string): Record<string, string> {
  try {
    const scripts = (JSON.parse(pkgText) as { scripts?: Record<string, string> }).scripts;
    return scripts && typeof scripts === 'object' ? scripts : {};
  } catch {
    return {};
  }
}

async function detectPython(sandbox: Sandbox): Promise<string | null> {
  const root = sandbox.workdir;
  const pytestMarkers = ['pytest.ini', 'conftest.py', 'tox.ini'];
  for (const marker of pytestMarkers)
    if ((await readOptional(sandbox, `${root}/${marker}`)) !== null) return 'python3 -m pytest -q';
  const pyproject = await readOptional(sandbox, `${root}/pyproject.toml`);
  if (pyproject?.includes('[tool.pytest')) return 'python3 -m pytest -q';
  const names = await sandbox
    .listFiles(root)
    .then((e) => e.map((x) => x.name))
    .catch(() => [] as string[]);
  const testsDir = names.includes('tests') || names.includes('test');
  if (testsDir || names.some((n) => /^test_.*\.py$/.test(n))) {
    const hasPy = names.some((n) => n.endsWith('.py')) || testsDir;
    if (hasPy && (pyproject !== null || names.some((n) => n.endsWith('.py'))))
      return 'python3 -m unittest discover -v';
  }
  return null;
}

export interface RunChecksOptions {
  sandbox: Sandbox;
  checks: Checks;
  includeSetup: boolean;
  emit?: TaskContext['emit'];
  signal?: AbortSignal;
  timeoutMs?: number;
  /**
   * A passing result of the same command that nothing has changed since (the coder's last run).
   * Only used before this round has run anything itself, since any step may change the workspace.
   */
  reuse?: (command: string) => ExecResult | null;
  /**
   * `approval: commands`: asked before each step runs; a refusal (the tool-result sentence) means
   * the step is not run and fails with it.
   */
  approve?: (command: string) => Promise<string | null>;
}

export async function runChecks(options: RunChecksOptions): Promise<ExecutorReport> {
  const runs: CheckRun[] = [];
  const steps = [
    ...(options.includeSetup
      ? options.checks.setup.map((command) => ({ kind: 'setup' as const, command }))
      : []),
    ...options.checks.checks,
  ];
  let ranSomething = false;
  for (const step of steps) {
    const earlier = !ranSomething && step.kind !== 'setup' ? options.reuse?.(step.command) : null;
    if (earlier) {
      await options.emit?.('log', {
        message: `\`${step.command}\` passed in the coder's last run and nothing changed since; not running it again`,
      });
      runs.push({
        ...step,
        exitCode: earlier.exitCode,
        timedOut: false,
        durationMs: earlier.durationMs,
        output: clip(`${earlier.stdout}\n${earlier.stderr}`.trim(), 8000),
        reused: true,
      });
      continue;
    }
    const refusal = await options.approve?.(step.command);
    if (refusal) {
      runs.push({ ...step, exitCode: 126, timedOut: false, durationMs: 0, output: refusal });
      if (step.kind === 'setup') break;
      continue;
    }
    ranSomething = true;
    await options.emit?.('command.started', { command: step.command });
    const result = await options.sandbox.exec(step.command, {
      cwd: options.sandbox.workdir,
      timeoutMs: options.timeoutMs ?? 600_000,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    await options.emit?.('command.finished', {
      command: step.command,
      exitCode: result.exitCode,
      durationMs: Math.round(result.durationMs),
      truncated: result.truncated,
    });
    const output = clip(`${result.stdout}\n${result.stderr}`.trim(), 8000);
    runs.push({
      ...step,
      exitCode: result.exitCode,
      timedOut: result.timedOut,
      durationMs: result.durationMs,
      output,
    });
    // A failed setup makes the checks meaningless.
    if (step.kind === 'setup' && result.exitCode !== 0) break;
  }
  const ok = runs.length > 0 && runs.every((r) => r.exitCode === 0) && runs.length === steps.length;
  return { ok: steps.length === 0 ? true : ok, runs, tests: countTests(runs) };
}

/** Counts tests from the runners' summaries (node --test, pytest, unittest, jest/vitest). */
export function countTests(runs: readonly CheckRun[]): { passed: number; failed: number } {
  let passed = 0;
  let failed = 0;
  for (const run of runs.filter((r) => r.kind === 'test')) {
    const text = run.output;
    const node =
      /^# pass (\d+)\s*$[\s\S]*?^# fail (\d+)\s*$/m.exec(text) ??
      /ℹ pass (\d+)[\s\S]*?ℹ fail (\d+)/.exec(text);
    const jest = /Tests?:\s+(?:(\d+) failed,\s+)?(\d+) passed/.exec(text);
    const pytest = /(?:(\d+) failed)?(?:, )?(?:(\d+) passed)/.exec(text);
    const unittest = /^Ran (\d+) tests?/m.exec(text);
    if (node) {
      passed += Number(node[1]);
      failed += Number(node[2]);
    } else if (jest) {
      passed += Number(jest[2]);
      failed += Number(jest[1] ?? 0);
    } else if (unittest) {
      const total = Number(unittest[1]);
      const bad = /FAILED \((?:failures=(\d+))?(?:, )?(?:errors=(\d+))?/.exec(text);
      const f = bad ? Number(bad[1] ?? 0) + Number(bad[2] ?? 0) : 0;
      passed += total - f;
      failed += f;
    } else if (pytest && (pytest[1] || pytest[2])) {
      passed += Number(pytest[2] ?? 0);
      failed += Number(pytest[1] ?? 0);
    } else if (run.exitCode === 0) passed += 1;
    else failed += 1;
  }
  return { passed, failed };
}

/** What the coder is told when checks fail. */
export function describeFailure(report: ExecutorReport): string {
  const failing = report.runs.filter((r) => r.exitCode !== 0);
  return [
    'The checks failed. Fix the cause (not the tests, unless the tests are wrong for the task), then answer with a summary again.',
    ...failing.map(
      (r) => `$ ${r.command}\nexit code ${r.exitCode}${r.timedOut ? ' (timed out)' : ''}\n${r.output}`,
    ),
  ].join('\n\n');
}
