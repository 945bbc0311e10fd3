/** The question answerer (read-only tools, no changes) and the shell agent (policy-checked commands). */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLlmClient } from '../../agents/llm/llm-client.js';
import { createQuestionHandler } from '../../agents/question/question-handler.js';
import { runReadOnlyCrew } from '../../agents/review/read-only-crew.js';
import { createShellAgentHandler } from '../../agents/shell/shell-agent.js';
import type { RepoInfo } from '../../src/core/index.js';
import { createDirSandbox, type DirSandbox } from '../fakes/llm/dir-sandbox.js';
import { createRecordingContext, makeTask } from '../fakes/llm/recording-context.js';
import { type ScriptedLlmServer, startScriptedLlm } from '../fakes/llm/scripted-llm-server.js';

const SMALL_REPO = fileURLToPath(new URL('../fixtures/small-repo', import.meta.url));
const LIMITS = { tokens: 1_000_000, costUsd: 10, toolCalls: 20, wallMs: 60_000 };

describe('question and shell agents', () => {
  let llm: ScriptedLlmServer;
  let sandbox: DirSandbox;
  beforeAll(async () => {
    llm = await startScriptedLlm();
    sandbox = await createDirSandbox(SMALL_REPO);
  });
  afterAll(async () => {
    await sandbox.close();
    await llm.close();
  });

  it('answers a question with read-only tools and cannot write', async () => {
    llm.load([
      {
        match: { role: 'question' },
        toolCalls: [{ name: 'write_file', arguments: { path: 'x.txt', content: 'x' } }],
      },
      {
        match: { contains: 'unknown tool \\"write_file\\"' },
        toolCalls: [{ name: 'grep', arguments: { pattern: 'export function' } }],
      },
      {
        match: { contains: 'src/slugify.js:2:export function slugify' },
        content: 'slugify is defined in src/slugify.js line 2.',
      },
    ]);
    let released = 0;
    const handler = createQuestionHandler({
      llm: createLlmClient({ OPENAI_BASE_URL: llm.baseUrl, DEVBOT_MODEL: 'm' }, { maxRetries: 0 }),
      limits: LIMITS,
      openWorkspace: async () => ({
        sandbox,
        release: async () => {
          released += 1;
        },
      }),
    });
    const ctx = createRecordingContext(makeTask({ kind: 'question', prompt: 'where is slugify defined?' }));
    const outcome = await handler(ctx);
    expect(llm.errors).toEqual([]);
    expect(outcome.summary).toBe('slugify is defined in src/slugify.js line 2.');
    expect(released).toBe(1);
    await expect(readFile(`${sandbox.workdir}/x.txt`, 'utf8')).rejects.toThrow();
  });

  it('reviews a pull request read-only: inline comments collected, nothing written, no coder', async () => {
    llm.load([
      {
        match: { role: 'reviewer' },
        toolCalls: [
          { name: 'write_file', arguments: { path: 'src/slugify.js', content: 'pwned' } },
          { name: 'add_review_comment', arguments: { path: '../etc/passwd', line: 1, body: 'x' } },
        ],
      },
      {
        match: { contains: 'outside the workspace' },
        toolCalls: [
          {
            name: 'add_review_comment',
            arguments: { path: './src/slugify.js', line: 3, body: 'Leading and trailing dashes are kept.' },
          },
        ],
      },
      { match: { contains: 'noted (1 comment(s) so far)' }, content: 'One problem: edge dashes.' },
    ]);
    const info = (mode: 'answer' | 'review'): RepoInfo => ({
      owner: 'acme',
      repo: 'small-repo',
      fullName: 'acme/small-repo',
      defaultBranch: 'main',
      baseBranch: 'feature',
      branch: 'feature',
      baseSha: 'abc',
      kind: 'followup',
      mode,
      config: {},
      prNumber: 7,
    });
    const llmClient = createLlmClient(
      { OPENAI_BASE_URL: llm.baseUrl, DEVBOT_MODEL: 'm' },
      { maxRetries: 0 },
    )!;
    const ctx = createRecordingContext(makeTask({ kind: 'followup', prompt: '/devbot review' }));
    const result = await runReadOnlyCrew({
      ctx,
      sandbox,
      info: info('review'),
      llm: llmClient,
      limits: LIMITS,
    });
    expect(llm.errors).toEqual([]);
    expect(result.review).toEqual({
      body: 'One problem: edge dashes.',
      comments: [{ path: 'src/slugify.js', line: 3, body: 'Leading and trailing dashes are kept.' }],
    });
    expect(await readFile(`${sandbox.workdir}/src/slugify.js`, 'utf8')).not.toBe('pwned');
    // The reviewer is offered no tool that writes files (commands run, their changes are thrown away).
    const offered = (llm.requests.find((r) => r.role === 'reviewer')?.body.tools ?? [])
      .map((t) => t.function.name)
      .sort();
    expect(offered).toEqual(['add_review_comment', 'grep', 'list_files', 'read_file', 'run_command']);

    // An answer: the question prompt, read-only tools, the reply is the answer.
    llm.load([{ match: { role: 'question' }, content: 'It replaces runs of other characters with a dash.' }]);
    const answered = await runReadOnlyCrew({
      ctx: createRecordingContext(makeTask({ kind: 'followup', prompt: '/devbot explain slugify' })),
      sandbox,
      info: info('answer'),
      llm: llmClient,
      limits: LIMITS,
    });
    expect(answered.reply).toBe('It replaces runs of other characters with a dash.');
    expect(answered.review).toBeUndefined();
  });

  it('runs a natural-language shell request step by step, refusing a command outside the policy', async () => {
    llm.load([
      {
        match: { role: 'shell' },
        toolCalls: [{ name: 'run_command', arguments: { command: 'wget http://example.com/x' } }],
      },
      {
        match: { contains: 'no network access' },
        toolCalls: [{ name: 'run_command', arguments: { command: 'ls src | wc -l' } }],
      },
      { match: { contains: 'exit code 0' }, content: 'There is 1 file in src.' },
    ]);
    const verbatimCalls: string[] = [];
    const handler = createShellAgentHandler({
      llm: createLlmClient({ OPENAI_BASE_URL: llm.baseUrl, DEVBOT_MODEL: 'm' }, { maxRetries: 0 }),
      limits: LIMITS,
      openSandbox: async () => ({ sandbox, release: async () => {} }),
      verbatim: async (ctx) => {
        verbatimCalls.push(String(ctx.task.input['command']));
        return { summary: 'ran' };
      },
    });
    const ctx = createRecordingContext(makeTask({ kind: 'shell', prompt: 'how many files are in src?' }));
    const outcome = await handler(ctx);
    expect(llm.errors).toEqual([]);
    expect(outcome.summary).toBe('There is 1 file in src.');
    expect(sandbox.commands.some((c) => c.includes('wget'))).toBe(false);
    expect(sandbox.commands).toContain('ls src | wc -l');
    // An explicit command goes to the verbatim runner without the LLM.
    const before = llm.requests.length;
    await handler(
      createRecordingContext(makeTask({ kind: 'shell', prompt: '/sh ls', input: { command: 'ls' } })),
    );
    expect(verbatimCalls).toEqual(['ls']);
    expect(llm.requests.length).toBe(before);
  });

  it('without an LLM, says how to send the command itself', async () => {
    const handler = createShellAgentHandler({
      llm: null,
      limits: LIMITS,
      openSandbox: async () => ({ sandbox, release: async () => {} }),
    });
    const ctx = createRecordingContext(makeTask({ kind: 'shell', prompt: 'list the files' }));
    await expect(handler(ctx)).rejects.toThrow(
      /no LLM configured: set OPENAI_API_KEY or OPENAI_BASE_URL to turn words into commands, or send the command itself \("command" in the API, "\/sh \.\.\." or "\$ \.\.\." in chat\)/,
    );
  });
});
