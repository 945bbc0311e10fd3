/**
 * The crew for a dev task (DESIGN.md §5): planner -> coder <-> executor (bounded rounds) -> preview
 * -> synthesizer. It works on a sandbox that already holds the repository; the caller (the GitHub
 * repo pipeline) copies the changes back, commits, pushes and opens the PR from the result.
 */
import {
  type ApprovalInfo,
  BadInputError,
  deniedCommandMessage,
  PlanApprovalNeeded,
  type RepoConfig,
  type Sandbox,
  type Task,
  type TaskContext,
} from '../../src/core/index.js';
import type { BudgetLimits } from '../llm/budget.js';
import { type LlmClient, NO_LLM_MESSAGE } from '../llm/llm-client.js';
import type { LlmSession } from '../llm/llm-session.js';
import { createTaskSession, type UsageSink } from '../llm/task-session.js';
import type { Tool } from '../llm/tool.js';
import { describeRisk, normalizeCommand, sourceFiles } from '../tools/command-risk.js';
import { assessInSandbox } from '../tools/workspace-tools.js';
import { Coder } from './coder.js';
import { describeFailure, detectChecks, type ExecutorReport, runChecks } from './executor.js';
import { type Plan, plan } from './planner.js';
import { detectPreview, type PreviewOutcome, startPreview } from './preview.js';
import { buildRepoMap, readOptional } from './repo-map.js';
import { type CrewResult, synthesize } from './synthesizer.js';

export interface CrewOptions {
  ctx: TaskContext;
  sandbox: Sandbox;
  /** The repository's `.devbot.yml`, read and checked once on the host (never from the sandbox). */
  repoConfig: RepoConfig;
  llm: LlmClient | null;
  limits: BudgetLimits;
  redact?: ((text: string) => string) | undefined;
  usageSink?: UsageSink | undefined;
  recall?: ((query: string) => Promise<string[]>) | undefined;
  /**
   * Tools the coder gets beside the workspace tools (memory's `remember`/`recall`, bound by the
   * caller to the task's repository). Their calls count in the tool-call budget like any other.
   */
  coderTools?: readonly Tool[] | undefined;
  /** Coder <-> executor rounds when checks fail (the repo config may lower or raise it). Default 3. */
  maxRounds?: number;
  /** Model turns per coder round. Default 40. */
  coderMaxSteps?: number;
  /** The sandbox's network policy (the repo config cannot widen it). Default false. */
  network?: boolean;
  /** Start a preview when the repo has one. Default true. */
  preview?: boolean;
  /** Use this session instead of creating one (tests, or a caller that shares the budget). */
  session?: LlmSession;
  /**
   * Plan approval: with mode `plan` the crew stops after planning (PlanApprovalNeeded); with an
   * approved plan it works from that plan without planning again; revisions go to the planner.
   */
  approval?: ApprovalInfo;
}

export interface CrewOutcome {
  result: CrewResult;
  preview: PreviewOutcome | null;
}

export async function runCrew(options: CrewOptions): Promise<CrewOutcome> {
  const { ctx, sandbox } = options;
  if (!options.llm && !options.session) throw new BadInputError(NO_LLM_MESSAGE);
  const session =
    options.session ??
    createTaskSession({
      ctx,
      llm: options.llm as LlmClient,
      limits: options.limits,
      redact: options.redact,
      usageSink: options.usageSink,
    });
  const emit = ctx.emit.bind(ctx);
  const task = withInstruction(ctx.task);

  await emit('step', { phase: 'planning', message: 'Reading the repository and planning' });
  const { repoConfig } = options;
  const agentsMd = await readOptional(sandbox, `${sandbox.workdir}/AGENTS.md`);
  const repoMap = await buildRepoMap(sandbox);
  const approval = options.approval;
  let thePlan: Plan;
  if (approval?.approvedPlan) {
    const approved = approval.approvedPlan;
    thePlan = { steps: approved.steps, files: approved.files ?? [], verify: approved.verify ?? '' };
    await emit('log', { message: 'Working from the approved plan' });
  } else {
    thePlan = await plan({
      session,
      task,
      repoMap,
      agentsMd,
      repoConfig,
      recall: options.recall,
      revisions: approval?.revisions,
    });
    session.budget.note('planned');
    await emit('log', { message: `Plan: ${thePlan.steps.map((s, i) => `${i + 1}. ${s}`).join(' ')}` });
    if (approval?.mode === 'plan') throw new PlanApprovalNeeded(thePlan);
  }

  // The operator's policy; a repository's `.devbot.yml` may turn it off, never on.
  const network = Boolean(options.network) && repoConfig.network !== false;
  /** Files written or edited in this task (tools and command text), for the command policy. */
  const changed = new Set<string>();
  const coder = new Coder({
    session,
    sandbox,
    task,
    plan: thePlan,
    agentsMd,
    network,
    protectedPaths: repoConfig.allow_workflow_changes ? [] : ['.github/workflows/'],
    maxSteps: options.coderMaxSteps ?? 40,
    emit,
    extraTools: options.coderTools,
    inbox: ctx.takeMessages?.bind(ctx),
    commandApproval:
      approval?.commands && ctx.askCommand
        ? {
            ask: ctx.askCommand.bind(ctx),
            patterns: repoConfig.approve_commands ?? [],
            changed,
            waited: (ms: number) => session.budget.exclude(ms),
          }
        : undefined,
  });
  const approveCheck =
    approval?.commands && ctx.askCommand
      ? checkApprover(ctx.askCommand.bind(ctx), sandbox, changed, (ms) => session.budget.exclude(ms))
      : undefined;
  const checks = await detectChecks(sandbox, repoConfig, { network });
  const maxRounds = repoConfig.max_rounds ?? options.maxRounds ?? 3;
  let report: ExecutorReport | null = null;
  let coderSummary = '';
  let rounds = 0;
  let feedback: string | undefined;
  while (rounds < maxRounds) {
    rounds += 1;
    await emit('step', {
      phase: 'coding',
      message: rounds === 1 ? 'Editing files' : `Fixing failing checks (round ${rounds} of ${maxRounds})`,
    });
    coderSummary = await coder.run(feedback);
    if (checks.checks.length === 0 && checks.setup.length === 0) break;
    await emit('step', {
      phase: 'testing',
      message: `Running checks: ${checks.checks.map((c) => c.command).join(', ')}`,
    });
    report = await runChecks({
      sandbox,
      checks,
      includeSetup: rounds === 1,
      emit,
      signal: ctx.signal,
      reuse: (command) => coder.passingLastRun(command),
      ...(approveCheck ? { approve: approveCheck } : {}),
    });
    session.budget.note(`checks ${report.ok ? 'passed' : 'failed'} (round ${rounds})`);
    if (report.ok) break;
    feedback = describeFailure(report);
  }

  const filesChanged = await changedFiles(sandbox, coder.filesChanged);
  let preview: PreviewOutcome | null = null;
  const spec = options.preview === false ? null : await detectPreview(sandbox, repoConfig);
  if (spec && (report === null || report.ok)) {
    await emit('step', { phase: 'preview', message: `Starting the preview: ${spec.command}` });
    preview = await startPreview({ sandbox, spec, emit });
    if (!preview.url)
      await emit('log', { message: `The preview did not start: ${preview.error ?? 'unknown reason'}` });
  }

  await emit('step', { phase: 'summarizing', message: 'Writing up the result' });
  const result = await synthesize({
    session,
    task,
    plan: thePlan,
    coderSummary,
    filesChanged,
    report,
    rounds,
    previewUrl: preview?.url ?? null,
  });
  return { result, preview };
}

/** `/new_task do X` routes as dev with the instruction; the crew works on the instruction. */
/**
 * The repository's own setup/test/lint commands do not ask — but what they run from files written
 * or edited in this task does (`"test": "curl … | sh"` planted in package.json, a changed script or
 * Makefile): those reasons ask like a coder's command.
 */
export function checkApprover(
  ask: NonNullable<TaskContext['askCommand']>,
  sandbox: Sandbox,
  changed: Set<string>,
  waited: (ms: number) => void,
): (command: string) => Promise<string | null> {
  return async (command) => {
    const risk = await assessInSandbox(sandbox, command, { changed });
    const reasons = risk.reasons.filter((r) => sourceFiles(r.source).some((f) => changed.has(f)));
    if (reasons.length === 0) return null;
    const asked = Date.now();
    const verdict = await ask({
      command,
      normalized: normalizeCommand(command),
      reasons: describeRisk(reasons),
    }).finally(() => waited(Date.now() - asked));
    return verdict.allowed ? null : deniedCommandMessage(command, verdict);
  };
}

function withInstruction(task: Task): Task {
  const instruction = task.input['instruction'];
  if (typeof instruction === 'string' && instruction.trim()) return { ...task, prompt: instruction.trim() };
  return { ...task, prompt: task.prompt.replace(/^\/new_task(?:@\w+)?\s*/, '') || task.prompt };
}

/** Files written through the tools, plus anything commands changed when the copy is a git checkout. */
async function changedFiles(sandbox: Sandbox, written: ReadonlySet<string>): Promise<string[]> {
  const files = new Set(written);
  const status = await sandbox
    .exec('test -d .git && git status --porcelain --untracked-files=all', {
      cwd: sandbox.workdir,
      timeoutMs: 30_000,
    })
    .catch(() => null);
  if (status && status.exitCode === 0)
    for (const line of status.stdout.split('\n')) {
      const path = line.slice(3).trim();
      if (path) files.add(path.includes(' -> ') ? (path.split(' -> ')[1] ?? path) : path);
    }
  return [...files].sort();
}
