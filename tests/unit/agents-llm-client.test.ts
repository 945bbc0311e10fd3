import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BudgetExceededError, TaskBudget } from '../../agents/llm/budget.js';
import { createLlmClient, type LlmClient } from '../../agents/llm/llm-client.js';
import { LlmSession } from '../../agents/llm/llm-session.js';
import { defineTool, invokeTool, toOpenAiTool } from '../../agents/llm/tool.js';
import { runToolLoop } from '../../agents/llm/tool-loop.js';
import { UnavailableError } from '../../src/core/index.js';
import { type ScriptedLlmServer, startScriptedLlm } from '../fakes/llm/scripted-llm-server.js';

const LIMITS = { tokens: 100_000, costUsd: 1, toolCalls: 10, wallMs: 30_000 };

const echo = defineTool({
  name: 'echo',
  description: 'echo a word',
  schema: z.object({ word: z.string().min(1), times: z.number().int().default(1) }),
  run: async ({ word, times }) => word.repeat(times),
});

describe('tools', () => {
  it('sends zod schemas as JSON schema', () => {
    const spec = toOpenAiTool(echo);
    expect(spec).toMatchObject({
      type: 'function',
      function: { name: 'echo', parameters: { type: 'object', properties: { word: { type: 'string' } } } },
    });
  });
  it('answers malformed calls with errors the model can act on', async () => {
    await expect(invokeTool([echo], 'nope', '{}')).resolves.toEqual({
      ok: false,
      error: 'unknown tool "nope"; the tools are: echo',
    });
    const badJson = await invokeTool([echo], 'echo', '{"word": ');
    expect(badJson.ok).toBe(false);
    expect(!badJson.ok && badJson.error).toMatch(/not valid JSON/);
    const badShape = await invokeTool([echo], 'echo', '{"word": 3}');
    expect(!badShape.ok && badShape.error).toMatch(/^invalid arguments for echo: word: /);
    await expect(invokeTool([echo], 'echo', '{"word":"ab","times":2}')).resolves.toEqual({
      ok: true,
      output: 'abab',
    });
  });
});

describe('LLM client against the scripted server', () => {
  let llm: ScriptedLlmServer;
  let client: LlmClient;
  beforeAll(async () => {
    llm = await startScriptedLlm();
    client = createLlmClient(
      { OPENAI_BASE_URL: llm.baseUrl, DEVBOT_MODEL: 'm', DEVBOT_MODEL_CODER: 'coder-m' },
      { maxRetries: 2 },
    )!;
  });
  afterAll(() => llm.close());

  it('is null without OPENAI_API_KEY or OPENAI_BASE_URL', () => {
    expect(createLlmClient({ DEVBOT_MODEL: 'm' })).toBeNull();
  });

  it('retries 429 and 5xx with backoff, then succeeds', async () => {
    llm.load([
      { error: { status: 429, headers: { 'retry-after-ms': '5' } } },
      { error: { status: 503, headers: { 'retry-after-ms': '5' } } },
      { content: 'hello' },
    ]);
    const before = llm.requests.length;
    const result = await client.complete('coder', { messages: [{ role: 'user', content: 'hi' }] });
    expect(result.message.content).toBe('hello');
    expect(result.model).toBe('coder-m');
    expect(llm.requests.length - before).toBe(3);
  });

  it('gives up after the bounded retries', async () => {
    llm.load([{ error: { status: 500, headers: { 'retry-after-ms': '1' } }, times: 3 }]);
    await expect(
      client.complete('router', { messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toMatchObject({ status: 500 });
    expect(llm.remaining()).toBe(0);
  });

  it('turns bad credentials into UnavailableError (no retry helps)', async () => {
    llm.load([{ error: { status: 401 } }]);
    await expect(
      client.complete('router', { messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toBeInstanceOf(UnavailableError);
  });

  it('records usage and enforces the token budget before the next request', async () => {
    llm.load([{ content: 'one', usage: { prompt_tokens: 600, completion_tokens: 500 } }]);
    const seen: number[] = [];
    const session = new LlmSession({
      client,
      budget: new TaskBudget({ ...LIMITS, tokens: 1000 }),
      onUsage: (r, total) => {
        seen.push(r.tokensIn, r.tokensOut, total.llmRequests);
      },
    });
    await session.chat('planner', { messages: [{ role: 'user', content: 'x' }] });
    expect(seen).toEqual([600, 500, 1]);
    expect(session.budget.usage.costUsd).toBeGreaterThan(0);
    const err = await session.chat('planner', { messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(BudgetExceededError);
    expect(err.message).toMatch(/budget exceeded: 1100 of 1000 tokens used/);
  });

  it('stops a slow request at the wall-time budget', async () => {
    llm.load([{ content: 'late', delayMs: 2000 }]);
    const session = new LlmSession({ client, budget: new TaskBudget({ ...LIMITS, wallMs: 200 }) });
    const started = Date.now();
    const err = await session.chat('coder', { messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(BudgetExceededError);
    expect(err.limit).toBe('wallMs');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('runs a tool loop where a malformed call and an unknown tool are answered, then finishes', async () => {
    llm.load([
      {
        toolCalls: [
          { name: 'echo', arguments: 'not json' },
          { name: 'rm_rf', arguments: {} },
        ],
      },
      {
        match: { afterToolResult: true, contains: 'unknown tool' },
        toolCalls: [{ name: 'echo', arguments: { word: 'ok' } }],
      },
      { match: { contains: '"content":"ok"' }, content: 'finished' },
    ]);
    const session = new LlmSession({ client, budget: new TaskBudget(LIMITS) });
    const result = await runToolLoop({
      session,
      role: 'coder',
      messages: [{ role: 'user', content: 'go' }],
      tools: [echo],
      maxSteps: 5,
    });
    expect(result).toEqual({ answer: 'finished', steps: 3, toolCalls: 3 });
    expect(llm.errors).toEqual([]);
  });

  it('the fake fails loudly on an unexpected turn, and streams when asked', async () => {
    llm.load([{ match: { role: 'planner' }, content: 'x' }]);
    await expect(
      client.complete('coder', { messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toMatchObject({ status: 500 });
    expect(llm.errors.at(-1)).toMatch(/does not match turn 0: expected role planner, got coder/);
    const res = await fetch(`${llm.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-devbot-role': 'planner' },
      body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const text = await res.text();
    expect(text).toContain('"content":"x"');
    expect(text.trim().endsWith('data: [DONE]')).toBe(true);
    const emb = await fetch(`${llm.baseUrl}/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'e', input: ['a b', 'a b'], dimensions: 8 }),
    }).then((r) => r.json() as Promise<{ data: Array<{ embedding: number[] }> }>);
    expect(emb.data[0]?.embedding).toHaveLength(8);
    expect(emb.data[0]?.embedding).toEqual(emb.data[1]?.embedding);
  });
});
