/**
 * The synthesizer: the structured result the reporters render. Facts (status, files changed, test
 * counts, checks) come from what happened; the model writes the prose (summary, PR title and body,
 * chat reply). A test-results section is always appended to the PR body from the facts, so a PR
 * never claims checks it did not run. If the model's answer is unusable, plain text is derived.
 */
import { z } from 'zod';
import type { Task } from '../../src/core/index.js';
import { describeTask } from '../describe-task.js';
import type { LlmSession } from '../llm/llm-session.js';
import { loadPrompt } from '../prompts/load-prompt.js';
import type { ExecutorReport } from './executor.js';
import { type Plan, renderPlan } from './planner.js';

export interface CrewResult {
  status: 'succeeded' | 'failed';
  summary: string;
  steps: string[];
  filesChanged: string[];
  tests: { passed: number; failed: number };
  checks: Array<{ kind: string; command: string; exitCode: number }>;
  prTitle: string;
  prBody: string;
  chatReply: string;
  /** A follow-up's review threads, as the crew reports them (empty when it had none). */
  threads: Array<{ id: number; addressed: boolean; note: string }>;
  previewUrl: string | null;
  rounds: number;
  plan: Plan;
}

export interface SynthesizerInput {
  session: LlmSession;
  task: Task;
  plan: Plan;
  coderSummary: string;
  filesChanged: string[];
  report: ExecutorReport | null;
  rounds: number;
  previewUrl: string | null;
}

const proseSchema = z.object({
  summary: z.string().min(1),
  steps: z.array(z.string()).catch([]),
  prTitle: z.string().min(1),
  prBody: z.string().catch(''),
  chatReply: z.string().min(1),
  threads: z
    .array(z.object({ id: z.number().int(), addressed: z.boolean(), note: z.string().max(1_000) }))
    .max(100)
    .catch([]),
});

const PROSE_JSON_SCHEMA = {
  type: 'object',
  properties: {
    summary: { type: 'string' },
    steps: { type: 'array', items: { type: 'string' } },
    prTitle: { type: 'string' },
    prBody: { type: 'string' },
    chatReply: { type: 'string' },
    threads: {
      type: 'array',
      items: {
        type: 'object',
        properties: { id: { type: 'integer' }, addressed: { type: 'boolean' }, note: { type: 'string' } },
        required: ['id', 'addressed', 'note'],
        additionalProperties: false,
      },
    },
  },
  required: ['summary', 'steps', 'prTitle', 'prBody', 'chatReply', 'threads'],
  additionalProperties: false,
};

export async function synthesize(input: SynthesizerInput): Promise<CrewResult> {
  const { report } = input;
  const status = report === null || report.ok ? 'succeeded' : 'failed';
  const tests = report?.tests ?? { passed: 0, failed: 0 };
  const checksText = renderChecks(report);
  const reply = await input.session.chat('synthesizer', {
    messages: [
      { role: 'system', content: loadPrompt('synthesizer') },
      {
        role: 'user',
        content: [
          `Task:\n${describeTask(input.task)}`,
          renderPlan(input.plan),
          `Coder's summary:\n${input.coderSummary || '(none)'}`,
          `Files changed: ${input.filesChanged.join(', ') || '(none)'}`,
          `Checks (${status}):\n${checksText}`,
        ].join('\n\n'),
      },
    ],
    responseFormat: {
      type: 'json_schema',
      json_schema: { name: 'result', schema: PROSE_JSON_SCHEMA, strict: true },
    },
  });
  const prose = parseProse(reply.content ?? '') ?? fallbackProse(input, status);
  const title = prose.prTitle.replace(/\s+/g, ' ').trim().slice(0, 120);
  return {
    status,
    summary: prose.summary,
    steps: prose.steps.length > 0 ? prose.steps : input.plan.steps,
    filesChanged: input.filesChanged,
    tests,
    checks: (report?.runs ?? []).map((r) => ({ kind: r.kind, command: r.command, exitCode: r.exitCode })),
    prTitle: title,
    prBody: `${prose.prBody.trim()}\n\n### Checks\n${checksText}${
      input.previewUrl ? `\n\nPreview: ${input.previewUrl}` : ''
    }`.trim(),
    chatReply: prose.chatReply,
    threads: prose.threads,
    previewUrl: input.previewUrl,
    rounds: input.rounds,
    plan: input.plan,
  };
}

function renderChecks(report: ExecutorReport | null): string {
  if (report === null) return 'No test or lint commands were found or configured; nothing was run.';
  const lines = report.runs.map(
    (r) =>
      `- ${r.exitCode === 0 ? '✅' : '❌'} \`${r.command}\` (exit ${r.exitCode}${r.timedOut ? ', timed out' : ''}${
        r.reused ? ", the coder's last run: nothing changed after it" : ''
      })`,
  );
  const { passed, failed } = report.tests;
  return `${lines.join('\n')}\n\nTests: ${passed} passed, ${failed} failed.`;
}

function parseProse(text: string): z.infer<typeof proseSchema> | null {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) return null;
  try {
    const parsed = proseSchema.safeParse(JSON.parse(text.slice(start, end + 1)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function fallbackProse(input: SynthesizerInput, status: string): z.infer<typeof proseSchema> {
  const first = input.task.prompt.split('\n')[0]?.trim() || 'devbot change';
  const summary = input.coderSummary.trim() || `Worked on: ${first}`;
  return {
    summary: status === 'failed' ? `${summary} (checks are still failing)` : summary,
    steps: input.plan.steps,
    prTitle: first.slice(0, 72),
    prBody: summary,
    chatReply:
      status === 'failed' ? `I made changes but the checks still fail. ${summary}` : `Done. ${summary}`,
    threads: [],
  };
}
