/**
 * The planner: repo map + AGENTS.md + .devbot.yml + memories + the task -> a short plan.
 * The plan is advisory; if the model's answer is not the JSON asked for, its text becomes the plan.
 */
import { z } from 'zod';
import { type Task, untrustedFence } from '../../src/core/index.js';
import type { RepoConfig } from '../../src/core/repo-config.js';
import { describeTask } from '../describe-task.js';
import type { LlmSession } from '../llm/llm-session.js';
import { loadPrompt } from '../prompts/load-prompt.js';

export interface Plan {
  steps: string[];
  files: string[];
  verify: string;
}

export interface PlannerInput {
  session: LlmSession;
  task: Task;
  repoMap: string;
  agentsMd: string | null;
  repoConfig: RepoConfig;
  /** Memories from earlier tasks on this repository (the memory module's recall). */
  recall?: ((query: string) => Promise<string[]>) | undefined;
  /** Changes to an earlier plan the requester asked for (plan approval's Revise), oldest first. */
  revisions?: readonly string[] | undefined;
}

const planSchema = z.object({
  steps: z.array(z.string()).catch([]),
  files: z.array(z.string()).catch([]),
  verify: z.string().catch(''),
});

const PLAN_JSON_SCHEMA = {
  type: 'object',
  properties: {
    steps: { type: 'array', items: { type: 'string' } },
    files: { type: 'array', items: { type: 'string' } },
    verify: { type: 'string' },
  },
  required: ['steps', 'files', 'verify'],
  additionalProperties: false,
};

export async function plan(input: PlannerInput): Promise<Plan> {
  const memories = input.recall ? await input.recall(input.task.prompt).catch(() => []) : [];
  const sections = [
    `Repository ${input.task.repo ?? ''}\n${input.repoMap}`,
    input.agentsMd
      ? `AGENTS.md (the repository's instructions for agents):\n${input.agentsMd.slice(0, 6000)}`
      : '',
    Object.keys(input.repoConfig).length > 0 ? `.devbot.yml:\n${JSON.stringify(input.repoConfig)}` : '',
    memories.length > 0
      ? `Memories from earlier tasks on this repository:\n${memories.map((m) => `- ${m}`).join('\n')}`
      : '',
    `The task:\n${describeTask(input.task)}`,
    revisionsSection(input.revisions ?? []),
  ].filter(Boolean);
  const reply = await input.session.chat('planner', {
    messages: [
      { role: 'system', content: loadPrompt('planner') },
      { role: 'user', content: sections.join('\n\n') },
    ],
    responseFormat: {
      type: 'json_schema',
      json_schema: { name: 'plan', schema: PLAN_JSON_SCHEMA, strict: true },
    },
  });
  return parsePlan(reply.content ?? '');
}

/** The requester's revisions, fenced: they are people's words, like the task itself. */
function revisionsSection(revisions: readonly string[]): string {
  if (revisions.length === 0) return '';
  const fence = untrustedFence();
  return [
    'The requester reviewed an earlier plan and asked for these changes (newest last); plan again with them:',
    ...revisions.map((r, i) => fence(`the requester's revision ${i + 1}`, r)),
  ].join('\n');
}

export function parsePlan(text: string): Plan {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start >= 0 && end > start) {
    try {
      const parsed = planSchema.safeParse(JSON.parse(text.slice(start, end + 1)));
      if (parsed.success && parsed.data.steps.length > 0) return parsed.data;
    } catch {
      // fall through: prose plan
    }
  }
  return { steps: text.trim() ? [text.trim()] : [], files: [], verify: '' };
}

export function renderPlan(p: Plan): string {
  return [
    'Plan:',
    ...p.steps.map((s, i) => `${i + 1}. ${s}`),
    p.files.length > 0 ? `Files: ${p.files.join(', ')}` : '',
    p.verify ? `Verify: ${p.verify}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}
