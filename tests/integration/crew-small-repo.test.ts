/**
 * The crew end to end with the scripted LLM, a sandbox holding the small repository (with a
 * failing test) and its real test command: plan, edits through the tools, the executor running
 * `node --test`, the failure fed back, the fix, tests passing, the result object. Along the way a
 * malformed tool call and a write outside the workspace are answered as errors and the task goes on.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCrew } from '../../agents/crew/run-crew.js';
import { BudgetExceededError } from '../../agents/llm/budget.js';
import { createLlmClient } from '../../agents/llm/llm-client.js';
import { requireRepoConfig } from '../../src/core/index.js';
import { taskEventPayloads } from '../../src/gateway/api-schemas.js';
import { createDirSandbox, type DirSandbox } from '../fakes/llm/dir-sandbox.js';
import { createRecordingContext, makeTask } from '../fakes/llm/recording-context.js';
import {
  type ScriptedLlmServer,
  type ScriptedTurn,
  startScriptedLlm,
} from '../fakes/llm/scripted-llm-server.js';

const SMALL_REPO = fileURLToPath(new URL('../fixtures/small-repo', import.meta.url));
/** The fixture's `.devbot.yml`, read on the host as the repo task handler does. */
const REPO_CONFIG = requireRepoConfig(readFileSync(`${SMALL_REPO}/.devbot.yml`, 'utf8'));
const LIMITS = { tokens: 1_000_000, costUsd: 10, toolCalls: 60, wallMs: 120_000 };

const plannerTurn: ScriptedTurn = {
  match: { role: 'planner', contains: 'AGENTS.md' },
  content: JSON.stringify({
    steps: ['Read src/slugify.js', 'Lower-case and trim separators', 'Run node --test'],
    files: ['src/slugify.js'],
    verify: 'node --test test/*.test.js',
  }),
};

const synthTurn: ScriptedTurn = {
  match: { role: 'synthesizer', contains: 'Tests: 3 passed, 0 failed' },
  content: JSON.stringify({
    summary: 'slugify now lower-cases and trims separators.',
    steps: ['Lower-cased the slug', 'Trimmed leading and trailing dashes'],
    prTitle: 'Fix slugify: lower-case and trim separators',
    prBody: 'Fixes `slugify` so titles become clean slugs.',
    chatReply: 'Fixed slugify; all 3 tests pass.',
  }),
};

describe('crew on the small repository', () => {
  let llm: ScriptedLlmServer;
  let sandbox: DirSandbox;

  beforeAll(async () => {
    llm = await startScriptedLlm();
  });
  afterAll(async () => {
    await llm.close();
  });
  afterEach(async () => {
    await sandbox?.close();
  });

  it('plans, edits, sees the tests fail, fixes, and reports a structured result', async () => {
    sandbox = await createDirSandbox(SMALL_REPO);
    const file = 'src/slugify.js';
    llm.load([
      plannerTurn,
      { match: { role: 'coder' }, toolCalls: [{ name: 'list_files', arguments: { path: '.' } }] },
      {
        match: { role: 'coder', contains: 'slugify.js (' },
        toolCalls: [{ name: 'read_file', arguments: { path: file } }],
      },
      // A malformed call: the arguments are not JSON. The model must get an error, not a crash.
      {
        match: { role: 'coder', contains: 'export function slugify' },
        toolCalls: [{ name: 'edit_file', arguments: '{"path": "src/slugify.js", ' }],
      },
      {
        match: { role: 'coder', contains: 'are not valid JSON' },
        toolCalls: [
          {
            name: 'edit_file',
            arguments: {
              path: file,
              search: "return text.replace(/[^A-Za-z0-9]+/g, '-');",
              replace: "return text.toLowerCase().replace(/[^a-z0-9]+/g, '-');",
            },
          },
        ],
      },
      {
        match: { role: 'coder', afterToolResult: true, contains: 'edited src/slugify.js' },
        content: 'Lower-cased the slug.',
      },
      // Round 2: the executor's failure comes back to the coder.
      {
        match: { role: 'coder', contains: 'drops leading and trailing separators' },
        toolCalls: [
          // Trying to write outside the workspace is refused, and the loop goes on.
          { name: 'write_file', arguments: { path: '/etc/devbot-was-here', content: 'x' } },
          { name: 'write_file', arguments: { path: '../escape.txt', content: 'x' } },
        ],
      },
      {
        match: { role: 'coder', contains: 'is outside the workspace' },
        toolCalls: [
          {
            name: 'edit_file',
            arguments: {
              path: file,
              search: ".replace(/[^a-z0-9]+/g, '-');",
              replace: ".replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');",
            },
          },
        ],
      },
      {
        match: { role: 'coder', afterToolResult: true },
        content: 'Also trimmed leading and trailing dashes.',
      },
      synthTurn,
    ]);
    const ctx = createRecordingContext(makeTask({ prompt: 'slugify is broken: make the tests pass' }));
    const client = createLlmClient(
      { OPENAI_BASE_URL: llm.baseUrl, DEVBOT_MODEL: 'scripted' },
      { maxRetries: 0 },
    );

    const { result } = await runCrew({
      ctx,
      sandbox,
      repoConfig: REPO_CONFIG,
      llm: client,
      limits: LIMITS,
      preview: false,
    });

    expect(llm.errors).toEqual([]);
    expect(llm.remaining()).toBe(0);
    expect(result).toMatchObject({
      status: 'succeeded',
      filesChanged: ['src/slugify.js'],
      tests: { passed: 3, failed: 0 },
      rounds: 2,
      prTitle: 'Fix slugify: lower-case and trim separators',
      chatReply: 'Fixed slugify; all 3 tests pass.',
      threads: [],
    });
    expect(result.prBody).toContain('✅ `node --test test/*.test.js`');
    expect(result.plan.files).toEqual(['src/slugify.js']);
    // The real test command ran twice: failing, then passing.
    expect(sandbox.commands.filter((c) => c === 'node --test test/*.test.js')).toHaveLength(2);
    const finished = ctx.events.filter((e) => e.type === 'command.finished').map((e) => e.data['exitCode']);
    expect(finished).toEqual([1, 0]);
    const source = await readFile(`${sandbox.workdir}/${file}`, 'utf8');
    expect(source).toContain(".replace(/^-+|-+$/g, '')");
    // The refused writes never happened.
    await expect(readFile('/etc/devbot-was-here', 'utf8')).rejects.toThrow();
    await expect(readFile(`${sandbox.workdir}/../escape.txt`, 'utf8')).rejects.toThrow();
    const toolResults = ctx.events.filter((e) => e.type === 'tool_result');
    expect(toolResults.filter((e) => e.data['ok'] === false).map((e) => e.data['tool'])).toEqual([
      'edit_file',
      'write_file',
      'write_file',
    ]);
    // Phases, usage on the task, llm events.
    const phases = ctx.events.filter((e) => e.type === 'step').map((e) => e.data['phase']);
    expect(phases).toEqual(['planning', 'coding', 'testing', 'coding', 'testing', 'summarizing']);
    expect(ctx.events.filter((e) => e.type === 'llm')).toHaveLength(10);
    // Every payload the crew emitted fits its schema in the API's OpenAPI document.
    for (const e of ctx.events)
      expect(
        taskEventPayloads[e.type].safeParse(e.data).error,
        `${e.type} ${JSON.stringify(e.data)}`,
      ).toBeUndefined();
    expect(ctx.task.usage['tokensIn']).toBeGreaterThan(0);
    expect(ctx.task.usage['toolCalls']).toBe(7);
    // The coder was told about the failing test with the runner's own output.
    const round2 = llm.requests.find((r) => JSON.stringify(r.body.messages).includes('The checks failed'));
    // (TAP on Node 20 and 22 when piped, the spec reporter on Node 24.)
    expect(JSON.stringify(round2?.body.messages)).toMatch(/[#ℹ] fail 1/);
  });

  it("takes the coder's own passing run of the check as the check when nothing changed after it", async () => {
    const fix = {
      name: 'edit_file',
      arguments: {
        path: 'src/slugify.js',
        search: "return text.replace(/[^A-Za-z0-9]+/g, '-');",
        replace: "return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');",
      },
    };
    const runTests = { name: 'run_command', arguments: { command: 'node --test test/*.test.js' } };
    const client = createLlmClient(
      { OPENAI_BASE_URL: llm.baseUrl, DEVBOT_MODEL: 'scripted' },
      { maxRetries: 0 },
    );

    // The coder fixes, runs the tests itself (they pass) and stops: the executor does not run them again.
    sandbox = await createDirSandbox(SMALL_REPO);
    llm.load([
      plannerTurn,
      { match: { role: 'coder' }, toolCalls: [fix] },
      { match: { role: 'coder', contains: 'edited src/slugify.js' }, toolCalls: [runTests] },
      { match: { role: 'coder', afterToolResult: true, contains: 'exit code 0' }, content: 'Fixed.' },
      {
        // A follow-up's synthesizer reports each review thread it was shown.
        ...synthTurn,
        content: JSON.stringify({
          ...JSON.parse(synthTurn.content!),
          threads: [{ id: 41, addressed: true, note: 'Trimmed the dashes as asked.' }],
        }),
      },
    ]);
    let ctx = createRecordingContext(makeTask({ prompt: 'slugify is broken: make the tests pass' }));
    let { result } = await runCrew({
      ctx,
      sandbox,
      repoConfig: REPO_CONFIG,
      llm: client,
      limits: LIMITS,
      preview: false,
    });
    expect(llm.errors).toEqual([]);
    expect(result).toMatchObject({ status: 'succeeded', tests: { passed: 3, failed: 0 }, rounds: 1 });
    expect(result.threads).toEqual([{ id: 41, addressed: true, note: 'Trimmed the dashes as asked.' }]);
    expect(sandbox.commands.filter((c) => c === 'node --test test/*.test.js')).toHaveLength(1);
    expect(result.prBody).toContain("the coder's last run: nothing changed after it");
    expect(
      ctx.events.some((e) => e.type === 'log' && String(e.data['message']).includes('not running it again')),
    ).toBe(true);
    await sandbox.close();

    // The same run followed by another edit: the executor runs the check itself.
    sandbox = await createDirSandbox(SMALL_REPO);
    llm.load([
      plannerTurn,
      { match: { role: 'coder' }, toolCalls: [fix] },
      { match: { role: 'coder', contains: 'edited src/slugify.js' }, toolCalls: [runTests] },
      {
        match: { role: 'coder', afterToolResult: true, contains: 'exit code 0' },
        toolCalls: [{ name: 'write_file', arguments: { path: 'NOTES.md', content: 'slugify fixed\n' } }],
      },
      { match: { role: 'coder', contains: 'wrote NOTES.md' }, content: 'Fixed, with a note.' },
      synthTurn,
    ]);
    ctx = createRecordingContext(makeTask({ prompt: 'slugify is broken: make the tests pass' }));
    ({ result } = await runCrew({
      ctx,
      sandbox,
      repoConfig: REPO_CONFIG,
      llm: client,
      limits: LIMITS,
      preview: false,
    }));
    expect(llm.errors).toEqual([]);
    expect(result).toMatchObject({ status: 'succeeded', tests: { passed: 3, failed: 0 } });
    expect(sandbox.commands.filter((c) => c === 'node --test test/*.test.js')).toHaveLength(2);
    expect(result.prBody).not.toContain("the coder's last run");
  });

  it('stops a model that never finishes at the tool-call budget, saying what was done', async () => {
    sandbox = await createDirSandbox(SMALL_REPO);
    llm.load([
      plannerTurn,
      {
        match: { role: 'coder' },
        toolCalls: [{ name: 'read_file', arguments: { path: 'README.md' } }],
        times: Number.POSITIVE_INFINITY,
      },
    ]);
    const before = llm.requests.length;
    const ctx = createRecordingContext(makeTask());
    const client = createLlmClient(
      { OPENAI_BASE_URL: llm.baseUrl, DEVBOT_MODEL: 'scripted' },
      { maxRetries: 0 },
    );
    const run = runCrew({
      ctx,
      sandbox,
      repoConfig: REPO_CONFIG,
      llm: client,
      limits: { ...LIMITS, toolCalls: 5 },
      preview: false,
    });
    await expect(run).rejects.toBeInstanceOf(BudgetExceededError);
    const err = (await run.catch((e: unknown) => e)) as BudgetExceededError;
    expect(err.limit).toBe('toolCalls');
    expect(err.message).toMatch(
      /budget exceeded: 5 of 5 tool calls used\. Done so far: planned; read_file README\.md/,
    );
    expect(llm.requests.slice(before).filter((r) => r.role === 'coder')).toHaveLength(6);
  });

  it("lets a repository's .devbot.yml turn the operator's network off, never on", async () => {
    const client = createLlmClient(
      { OPENAI_BASE_URL: llm.baseUrl, DEVBOT_MODEL: 'scripted' },
      { maxRetries: 0 },
    );
    const coderPrompt = async (devbotYml: string, network: boolean) => {
      sandbox = await createDirSandbox(SMALL_REPO);
      llm.load([
        plannerTurn,
        { match: { role: 'coder' }, content: 'Nothing to do.' },
        {
          match: { role: 'synthesizer' },
          content: '{"summary":"s","steps":[],"prTitle":"t","prBody":"b","chatReply":"r"}',
        },
      ]);
      const before = llm.requests.length;
      await runCrew({
        ctx: createRecordingContext(makeTask()),
        sandbox,
        // The host reads `.devbot.yml` from the default branch and hands it to the crew.
        repoConfig: requireRepoConfig(devbotYml),
        llm: client,
        limits: LIMITS,
        network,
        preview: false,
      });
      await sandbox.close();
      const coder = llm.requests.slice(before).find((r) => r.role === 'coder');
      return JSON.stringify(coder?.body.messages[0]);
    };
    expect(await coderPrompt('max_rounds: 1\n', true)).toContain('through a proxy');
    expect(await coderPrompt('max_rounds: 1\nnetwork: false\n', true)).toContain('There is no network');
    expect(await coderPrompt('max_rounds: 1\nnetwork: true\n', false)).toContain('There is no network');
  });

  it('reports a bad .devbot.yml with the line and what is wrong', () => {
    // Parsed once on the host (the repo task handler), before any sandbox or LLM call.
    expect(() => requireRepoConfig('test: node --test\npreview:\n  command: x\n  port: high\n')).toThrow(
      /\.devbot\.yml line 4: preview\.port: .*expected number/,
    );
  });

  it('fails with a clear message when no LLM is configured', async () => {
    sandbox = await createDirSandbox(SMALL_REPO);
    const ctx = createRecordingContext(makeTask());
    await expect(
      runCrew({ ctx, sandbox, repoConfig: REPO_CONFIG, llm: null, limits: LIMITS }),
    ).rejects.toThrow('no LLM configured: set OPENAI_API_KEY or OPENAI_BASE_URL');
  });
});
