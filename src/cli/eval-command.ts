/**
 * `devbot eval`: runs a suite of tasks with hidden tests through devbot's own dev pipeline and
 * reports pass rate, time and cost (docs/eval.md); `devbot eval compare A.json B.json` compares
 * two reports.
 *
 * The devbot under test is a whole devbot started in this process (src/app/start-devbot.ts) on
 * the user's configuration, with what would make it touch anything else replaced: a temporary
 * data directory with embedded PGlite, a private queue prefix, a temporary DEVBOT_REPOS_DIR, no
 * Telegram or GitHub, one attempt per task. The LLM, the model, the sandbox and the budgets are
 * the configured ones, so the figures are the product's.
 *
 * Everything heavy is imported when the command runs: `devbot --help` loads none of it.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { DevbotApp, StartOptions } from '../app/start-devbot.js';
import type { Config, Env } from '../config/config.js';
import { BadInputError } from '../core/errors.js';
import type { EvalTask } from '../eval/load-suite.js';
import type { EvalPipeline } from '../eval/run-eval.js';
import type { CliContext } from './cli-context.js';
import { usageError } from './usage-error.js';

/** The subject devbot's tasks are submitted as; it is granted `local/*` in the private store. */
export const EVAL_SUBJECT = 'eval';

export interface EvalCliOptions {
  suite?: string | undefined;
  task?: string[] | undefined;
  runs: number;
  concurrency: number;
  model?: string | undefined;
  json?: string | undefined;
  markdown?: string | undefined;
}

/** What tests replace: the devbot's start options (a shared PGlite, a quiet logger), or the devbot. */
export interface EvalSeams {
  start?: Partial<Omit<StartOptions, 'config'>>;
  /** Extra environment for the devbot under test. */
  env?: Env;
  /**
   * A running devbot to evaluate instead of starting one (tests reuse one across runs): its
   * config must come from `evalEnv` (DEVBOT_REPOS_DIR, one attempt); it is not stopped here.
   */
  app?: DevbotApp;
}

export function registerEvalCommand(program: Command, ctx: CliContext): void {
  const command: Command = program.command('eval');
  command
    .description('run the crew on a suite of tasks with hidden tests; report pass rate, time and cost')
    .option('--suite <dir>', "the suite's folder (default: eval/tasks of this devbot)")
    .option('--task <id...>', 'only these tasks: ids or patterns (smoke-*), any number')
    .option(
      '--runs <n>',
      'runs per task (pass@1 is their mean)',
      (v: string): number => positive(command, '--runs', v, 100),
      1,
    )
    .option(
      '--concurrency <n>',
      'tasks at a time',
      (v: string): number => positive(command, '--concurrency', v, 32),
      1,
    )
    .option('--model <name>', 'the model for the whole crew (default: DEVBOT_MODEL)')
    .option('--json <file>', 'also write the JSON report here')
    .option('--markdown <file>', 'also write the Markdown table here')
    .addHelpText(
      'after',
      `
Runs each task through devbot's real dev pipeline (local sandbox, local repositories, the
configured LLM and budgets) in a devbot started for the run, then scores it: the task's hidden
tests are laid over the crew's branch and \`check\` runs in a fresh sandbox. Reports, and each run's
events, diff and check output, go to <DEVBOT_DATA_DIR>/eval/<timestamp>/.
Exit code 0 when the suite ran (whatever the pass rate); 1 when it could not (no LLM configured,
a broken task, a bad suite).

  OPENAI_BASE_URL=http://localhost:11434/v1 devbot eval --model qwen2.5-coder:7b --task 'smoke-*'
  devbot eval compare before.json after.json`,
    )
    .action(async (options: EvalCliOptions) => {
      await runEvalCommand(options, ctx);
    });
  command
    .command('compare')
    .description('per-task differences between two eval reports, and the change in pass rate')
    .argument('<a>', 'the first report (JSON)')
    .argument('<b>', 'the second report (JSON)')
    .action(async (a: string, b: string) => {
      await runCompareCommand(a, b, ctx);
    });
}

function positive(command: Command, name: string, value: string, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max)
    return usageError(command, `${name} must be a whole number from 1 to ${max}, not "${value}"`);
  return n;
}

export async function runCompareCommand(a: string, b: string, ctx: CliContext): Promise<void> {
  const { compareReports, parseReport, renderComparison } = await import('../eval/eval-report.js');
  const read = async (file: string) => {
    const path = resolve(ctx.cwd, file);
    const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new BadInputError(`${file}: cannot read it (${err.code ?? err.message})`);
    });
    try {
      return parseReport(text, file);
    } catch (err) {
      throw new BadInputError((err as Error).message);
    }
  };
  const [ra, rb] = [await read(a), await read(b)];
  ctx.out(renderComparison(compareReports(ra, rb), { a, b }, { a: ra, b: rb }));
}

/** `devbot eval [...]`: sets ctx.exitCode (0 ran, 1 could not run). */
export async function runEvalCommand(
  options: EvalCliOptions,
  ctx: CliContext,
  seams: EvalSeams = {},
): Promise<void> {
  const { loadConfig } = await import('../config/config.js');
  const { EvalSuiteError, loadSuite } = await import('../eval/load-suite.js');
  const userEnv = ctx.env();
  const userConfig = loadConfig(userEnv, ctx.cwd);
  if (!userConfig.OPENAI_API_KEY && !userConfig.OPENAI_BASE_URL)
    throw new BadInputError(
      'no LLM configured: set OPENAI_BASE_URL (any OpenAI-compatible server) and/or OPENAI_API_KEY, ' +
        'and --model or DEVBOT_MODEL; devbot eval measures the crew with a real model',
    );

  const suite = options.suite ? resolve(ctx.cwd, options.suite) : shippedSuite();
  let tasks: EvalTask[];
  try {
    tasks = await loadSuite(suite, { filter: options.task ?? [] });
  } catch (err) {
    if (!(err instanceof EvalSuiteError)) throw err;
    ctx.err(`devbot: ${err.message}\n`);
    ctx.exitCode = 1;
    return;
  }
  if (suite.startsWith('/usr/'))
    ctx.err(
      `devbot: warning: the suite is under /usr, which every local sandbox can read: the crew could read the hidden tests. Copy the suite elsewhere.\n`,
    );

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const reportDir = join(userConfig.dataDir, 'eval', stamp);
  await mkdir(reportDir, { recursive: true, mode: 0o700 });
  const work = await mkdtemp(join(tmpdir(), 'devbot-eval-'));
  const model = options.model ?? userConfig.DEVBOT_MODEL;
  const config = loadConfig(
    evalEnv(userEnv, {
      dataDir: join(work, 'data'),
      reposDir: join(work, 'repos'),
      model: options.model,
      concurrency: options.concurrency,
      network: tasks.some((t) => t.network),
      timeoutMs: Math.max(...tasks.map((t) => t.timeoutSeconds)) * 1000 + 60_000,
      extra: seams.env ?? {},
    }),
    ctx.cwd,
  );
  await mkdir(config.DEVBOT_REPOS_DIR as string, { recursive: true });

  const [{ startDevbot }, { SqlSubjectAccess }, { createLogger }, { configSecrets }, { runEval }, report] =
    await Promise.all([
      import('../app/start-devbot.js'),
      import('../store/sql-subject-access.js'),
      import('../observability/logger.js'),
      import('../config/config-secrets.js'),
      import('../eval/run-eval.js'),
      import('../eval/eval-report.js'),
    ]);
  const logFile = createWriteStream(join(reportDir, 'devbot.log'));
  const logger =
    seams.start?.logger ??
    createLogger({
      level: userEnv['LOG_LEVEL'] ?? 'info',
      format: 'json',
      destination: logFile,
      secrets: () => configSecrets(config),
    });
  ctx.out(
    `devbot eval: ${tasks.length} task${tasks.length === 1 ? '' : 's'} × ${options.runs} run${options.runs === 1 ? '' : 's'}, model ${model}, concurrency ${options.concurrency}\nreport: ${reportDir}\n`,
  );
  let app: DevbotApp | undefined;
  try {
    app = seams.app ?? (await startDevbot({ reconcileIntervalMs: 0, ...seams.start, config, logger }));
    await new SqlSubjectAccess(app.runtime.sql).grant(EVAL_SUBJECT, 'local/*');
    const pipeline = pipelineOf(app);
    const { report: result, broken } = await runEval({
      tasks,
      pipeline,
      reportDir,
      suite,
      selection: options.task ?? [],
      model: modelName(app.runtime.config),
      runs: options.runs,
      concurrency: options.concurrency,
      progress: (line) => ctx.out(`${line}\n`),
    });
    const json = `${JSON.stringify(result, null, 2)}\n`;
    const markdown = report.renderMarkdown(result);
    await writeFile(join(reportDir, 'report.json'), json);
    await writeFile(join(reportDir, 'report.md'), markdown);
    if (options.json) await writeFile(resolve(ctx.cwd, options.json), json);
    if (options.markdown) await writeFile(resolve(ctx.cwd, options.markdown), markdown);
    ctx.out(`\n${markdown}\nreport: ${join(reportDir, 'report.json')}\n`);
    if (broken.length > 0) {
      ctx.err(
        `devbot: ${broken.length} broken task${broken.length === 1 ? '' : 's'} (${broken.join(', ')}): \`check\` passes before the crew runs, so ${broken.length === 1 ? 'it measures' : 'they measure'} nothing; fix the task${broken.length === 1 ? '' : 's'} (no crew ran)\n`,
      );
      ctx.exitCode = 1;
    }
  } finally {
    if (!seams.app) await app?.stop();
    await new Promise<void>((r) => logFile.end(r));
    await rm(work, { recursive: true, force: true });
  }
}

/** The devbot under test as the harness drives it: its ingress, store, event bus and sandboxes. */
export function pipelineOf(app: DevbotApp): EvalPipeline {
  const { runtime } = app;
  const reposDir = runtime.config.DEVBOT_REPOS_DIR;
  if (!reposDir) throw new Error('the devbot under test needs DEVBOT_REPOS_DIR');
  return {
    reposDir,
    sandboxes: runtime.sandboxes,
    submitDev: async (input) =>
      (
        await runtime.ingress.submit({
          source: 'api',
          requester: EVAL_SUBJECT,
          repo: input.repo,
          kind: 'dev',
          prompt: input.prompt,
          idempotencyKey: input.idempotencyKey,
          input: {},
        })
      ).task.id,
    getTask: (id) => runtime.store.getTask(id),
    listEvents: (id) => runtime.store.listEvents(id),
    tail: (id, after, signal) => runtime.bus.tail(id, after, signal),
    cancel: async (id, by) => {
      await runtime.ingress.cancel(id, by);
    },
  };
}

/** The model(s) the crew uses, as the report names them. */
function modelName(config: Config): string {
  const roles = (
    [
      ['planner', config.DEVBOT_MODEL_PLANNER],
      ['coder', config.DEVBOT_MODEL_CODER],
      ['synthesizer', config.DEVBOT_MODEL_SYNTHESIZER],
    ] as const
  ).filter(([, m]) => m && m !== config.DEVBOT_MODEL);
  return roles.length === 0
    ? config.DEVBOT_MODEL
    : `${config.DEVBOT_MODEL} (${roles.map(([r, m]) => `${r}: ${m}`).join(', ')})`;
}

/**
 * The environment of the devbot under test: the user's (LLM, model, sandbox, budgets) with
 * everything that could reach other people or other devbots replaced or removed.
 */
export function evalEnv(
  user: Env,
  o: {
    dataDir: string;
    reposDir: string;
    model?: string | undefined;
    concurrency: number;
    network: boolean;
    timeoutMs: number;
    extra: Env;
  },
): Env {
  const env: Env = {};
  for (const [key, value] of Object.entries(user)) {
    // No chat, no GitHub, no shared database, no public addresses.
    if (/^(TELEGRAM_|GITHUB_)/.test(key)) continue;
    if (['DATABASE_URL', 'DEVBOT_PUBLIC_URL', 'DEVBOT_INTERNAL_URL', 'DEVBOT_PREVIEW_URL'].includes(key))
      continue;
    // --model is the model of the whole crew.
    if (o.model && /^DEVBOT_MODEL_/.test(key)) continue;
    env[key] = value;
  }
  return {
    ...env,
    PORT: '0',
    HOST: '127.0.0.1',
    DEVBOT_DATA_DIR: o.dataDir,
    DEVBOT_REPOS_DIR: o.reposDir,
    DEVBOT_QUEUE_PREFIX: `{eval-${randomBytes(5).toString('hex')}}`,
    // One attempt: a retried task would be a second run that the report does not show.
    DEVBOT_TASK_ATTEMPTS: '1',
    DEVBOT_CONCURRENCY: String(o.concurrency),
    DEVBOT_TASK_TIMEOUT_MS: String(o.timeoutMs),
    // Network only when a selected task needs the package registry (through the allowlist).
    DEVBOT_SANDBOX_NETWORK: o.network ? 'allowlist' : 'off',
    ...(o.model ? { DEVBOT_MODEL: o.model } : {}),
    ...o.extra,
  };
}

/** eval/tasks of the devbot this module belongs to (a checkout: the npm package does not ship it). */
function shippedSuite(from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'devbot')
          return join(dir, 'eval', 'tasks');
      } catch {
        // Not ours: keep walking up.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return resolve('eval/tasks');
    dir = parent;
  }
}
