/**
 * The coder's extra tools (memory's remember/recall in production): they join the workspace tools,
 * may not shadow one, and their calls count in the task's tool-call budget.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Coder, type CoderOptions } from '../../agents/crew/coder.js';
import { BudgetExceededError, TaskBudget } from '../../agents/llm/budget.js';
import { createLlmClient } from '../../agents/llm/llm-client.js';
import { LlmSession } from '../../agents/llm/llm-session.js';
import { defineTool, type Tool } from '../../agents/llm/tool.js';
import { BadInputError, type Task } from '../../src/core/index.js';
import { createDirSandbox, type DirSandbox } from '../fakes/llm/dir-sandbox.js';
import { type ScriptedLlmServer, startScriptedLlm } from '../fakes/llm/scripted-llm-server.js';

const task = {
  id: '00000000-0000-4000-8000-000000000001',
  kind: 'dev',
  source: 'api',
  requester: 'alice',
  prompt: 'look around',
  repo: 'acme/service',
  input: {},
} as unknown as Task;

function pingTool(calls: string[]): Tool {
  return defineTool({
    name: 'ping',
    description: 'Answers pong.',
    schema: z.object({ say: z.string() }),
    run: async ({ say }) => {
      calls.push(say);
      return `pong ${say}`;
    },
  });
}

describe('coder extra tools', () => {
  let llm: ScriptedLlmServer;
  let sandbox: DirSandbox;

  beforeAll(async () => {
    llm = await startScriptedLlm();
    sandbox = await createDirSandbox();
  });
  afterAll(async () => {
    await sandbox?.close();
    await llm?.close();
  });

  function coder(toolCalls: number, extraTools: readonly Tool[]): Coder {
    const client = createLlmClient(
      { OPENAI_BASE_URL: llm.baseUrl, DEVBOT_MODEL: 'scripted' },
      { maxRetries: 0 },
    );
    if (!client) throw new Error('the scripted LLM should configure a client');
    const budget = new TaskBudget({ tokens: 1e9, costUsd: 1e6, toolCalls, wallMs: 60_000 });
    const options: CoderOptions = {
      session: new LlmSession({ client, budget }),
      sandbox,
      task,
      plan: { steps: ['ping'], files: [], verify: '' },
      agentsMd: null,
      network: false,
      protectedPaths: [],
      maxSteps: 10,
      extraTools,
    };
    return new Coder(options);
  }

  it('refuses an extra tool that would shadow a workspace tool', () => {
    const shadow = defineTool({ ...pingTool([]), name: 'read_file' });
    expect(() => coder(5, [shadow])).toThrow(BadInputError);
  });

  it('offers the extra tools to the model and runs them', async () => {
    const calls: string[] = [];
    llm.load([
      { match: { role: 'coder' }, toolCalls: [{ name: 'ping', arguments: { say: 'one' } }] },
      { match: { role: 'coder', afterToolResult: true }, content: 'done' },
    ]);
    const before = llm.requests.length;
    expect(await coder(5, [pingTool(calls)]).run()).toBe('done');
    expect(llm.errors).toEqual([]);
    const first = llm.requests[before];
    expect(first?.body.tools?.map((t) => t.function.name)).toEqual(
      expect.arrayContaining(['read_file', 'ping']),
    );
    expect(JSON.stringify(first?.body.messages[0])).toContain('- ping: Answers pong.');
    expect(String(llm.requests[before + 1]?.body.messages.at(-1)?.content)).toContain('pong one');
    expect(calls).toEqual(['one']);
  });

  it('counts extra tool calls in the tool-call budget', async () => {
    const calls: string[] = [];
    llm.load([
      { match: { role: 'coder' }, toolCalls: [{ name: 'ping', arguments: { say: 'one' } }] },
      {
        match: { role: 'coder', afterToolResult: true },
        toolCalls: [{ name: 'ping', arguments: { say: 'two' } }],
      },
    ]);
    await expect(coder(1, [pingTool(calls)]).run()).rejects.toMatchObject({
      constructor: BudgetExceededError,
      limit: 'toolCalls',
    });
    expect(calls).toEqual(['one']);
  });
});
