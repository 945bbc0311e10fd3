/**
 * The agent loop: ask the model, run the tool calls it makes, feed the results back, until it
 * answers in plain text. Bounded by `maxSteps` and by the task budget (each tool call counts).
 */
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import {
  LimitExceededError,
  type SteerMessage,
  type TaskContext,
  untrustedFence,
} from '../../src/core/index.js';
import type { LlmRole } from './llm-client.js';
import type { LlmSession } from './llm-session.js';
import { invokeTool, type Tool, toOpenAiTool } from './tool.js';

/** What the model sees of one tool result; the rest is cut with a marker. */
const MAX_TOOL_OUTPUT = 12_000;

export interface ToolLoopOptions {
  session: LlmSession;
  role: LlmRole;
  /** The conversation so far; the loop appends to it (so a later round can continue it). */
  messages: ChatCompletionMessageParam[];
  tools: readonly Tool[];
  maxSteps: number;
  emit?: TaskContext['emit'];
  /** Messages from the requester that arrived since the last turn (steering); added before the next. */
  inbox?: () => Promise<SteerMessage[]>;
}

export interface ToolLoopResult {
  /** The model's final text answer. */
  answer: string;
  steps: number;
  toolCalls: number;
}

export async function runToolLoop(options: ToolLoopOptions): Promise<ToolLoopResult> {
  const { session, role, messages, tools, emit } = options;
  const specs = tools.map(toOpenAiTool);
  let toolCalls = 0;
  for (let step = 1; step <= options.maxSteps; step++) {
    const notes = (await options.inbox?.()) ?? [];
    if (notes.length > 0) messages.push({ role: 'user', content: steeringMessage(notes) });
    const reply = await session.chat(role, { messages, tools: specs });
    const calls = (reply.tool_calls ?? []).filter((c) => c.type === 'function');
    messages.push({
      role: 'assistant',
      content: reply.content ?? null,
      ...(calls.length > 0 ? { tool_calls: calls } : {}),
    });
    if (calls.length === 0) return { answer: reply.content ?? '', steps: step, toolCalls };
    for (const call of calls) {
      session.budget.takeToolCall();
      toolCalls += 1;
      const name = call.function.name;
      await emit?.('tool_call', { tool: name, args: clip(session.redact(call.function.arguments), 500) });
      const outcome = await invokeTool(tools, name, call.function.arguments);
      const text = outcome.ok ? outcome.output : `error: ${outcome.error}`;
      await emit?.('tool_result', { tool: name, ok: outcome.ok, summary: clip(session.redact(text), 300) });
      session.budget.note(`${name}${outcome.ok ? '' : ' (failed)'} ${describeArgs(call.function.arguments)}`);
      messages.push({ role: 'tool', tool_call_id: call.id, content: clip(text, MAX_TOOL_OUTPUT) });
    }
  }
  throw new LimitExceededError(
    `the ${role} did not finish within ${options.maxSteps} steps. Done so far: ${session.budget.progress.slice(-12).join('; ')}`,
  );
}

/**
 * The requester's messages during the run, labelled as theirs and fenced: a chat message is
 * people's words, and a reply must not be able to rewrite the crew's rules.
 */
function steeringMessage(notes: readonly SteerMessage[]): string {
  const fence = untrustedFence();
  return [
    'While you work, the person who asked for this task sent a message. Take it into account from now on:',
    ...notes.map((n) => fence(`a message from the requester (${n.by})`, n.text)),
  ].join('\n');
}

export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const half = Math.floor(max / 2);
  return `${text.slice(0, half)}\n…[${text.length - max} characters cut]…\n${text.slice(-half)}`;
}

/** A short, safe description of a call for progress notes ("path=src/a.js"). */
function describeArgs(raw: string): string {
  try {
    const args = JSON.parse(raw) as Record<string, unknown>;
    const key = ['path', 'command', 'pattern'].find((k) => typeof args[k] === 'string');
    return key ? String(args[key]).slice(0, 80) : '';
  } catch {
    return '';
  }
}
