/**
 * Memory end to end: devbot with the memory and agents modules, the crew on a scripted LLM and a
 * directory sandbox. The first dev task on a repository ends; the memory reporter saves what it
 * did; the second task's planner request carries that memory. GET /memories shows it. A third
 * task's coder uses the `recall` and `remember` tools, bound to the task's repository.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLlmClient } from '../../agents/llm/llm-client.js';
import type { RepoInfo } from '../../src/core/agent-runner.js';
import type { MemoryPort, TaskContext } from '../../src/core/index.js';
import { requireRepoConfig as parseRepoConfig } from '../../src/core/index.js';
import { HASHING_MODEL } from '../../src/memory/hashing-embedder.js';
import { SqlSubjectAccess } from '../../src/store/sql-subject-access.js';
import { createDirSandbox } from '../fakes/llm/dir-sandbox.js';
import {
  type ScriptedLlmServer,
  type ScriptedTurn,
  startScriptedLlm,
} from '../fakes/llm/scripted-llm-server.js';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';

const REPO = 'acme/service';
const FIRST_SUMMARY = 'Added GET /health in src/health.js, answering {"ok":true}.';
/** A configured secret that the first request happens to contain: it must never be stored. */
const SECRET = 'sk-test-memory-0123456789abcdef';

function info(ctx: TaskContext): RepoInfo {
  return {
    owner: 'acme',
    repo: 'service',
    fullName: REPO,
    defaultBranch: 'main',
    baseBranch: 'main',
    branch: `devbot/${ctx.task.id.slice(0, 8)}`,
    baseSha: '0'.repeat(40),
    kind: 'dev',
    config: parseRepoConfig(null),
  };
}

function synth(summary: string): ScriptedTurn {
  return {
    match: { role: 'synthesizer' },
    content: JSON.stringify({
      summary,
      steps: ['done'],
      prTitle: summary.slice(0, 60),
      prBody: summary,
      chatReply: summary,
    }),
  };
}

let devbot: TestDevbot;

/** The running devbot's memory port. */
function memory(): MemoryPort {
  const port = devbot.app.modules.memory.memory;
  if (!port) throw new Error('memory is not available');
  return port;
}

describe('memory with the crew', () => {
  let llm: ScriptedLlmServer;
  let repoDir: string;

  beforeAll(async () => {
    llm = await startScriptedLlm();
    repoDir = await mkdtemp(join(tmpdir(), 'devbot-memory-repo-'));
    await mkdir(join(repoDir, 'src'));
    await writeFile(join(repoDir, 'README.md'), '# service\n');
    await writeFile(join(repoDir, 'src/app.js'), 'export const app = {};\n');
    await writeFile(
      join(repoDir, 'package.json'),
      JSON.stringify({ name: 'service', scripts: { test: 'node -e "process.exit(0)"' } }),
    );
    const client = createLlmClient(
      { OPENAI_BASE_URL: llm.baseUrl, DEVBOT_MODEL: 'scripted' },
      { maxRetries: 0 },
    );
    devbot = await startTestDevbot({
      // No DEVBOT_EMBEDDING_MODEL: memory uses the local hashing embedder.
      env: { OPENAI_API_KEY: SECRET },
      agents: { llm: client },
      handlers: {
        // The crew as the repo task handler would run it, in a directory sandbox of the repo.
        dev: async (ctx) => {
          const sandbox = await createDirSandbox(repoDir);
          try {
            return await devbot.app.modules.agents.runAgent(ctx, sandbox, info(ctx));
          } finally {
            await sandbox.close();
          }
        },
      },
    });
    // The API user may make devbot change any repository here.
    await new SqlSubjectAccess(devbot.app.runtime.sql).grant('alice', '*');
  });

  afterAll(async () => {
    await devbot?.stop();
    await llm?.close();
  });

  it("a second task on the repository sees the first task's memory in the planner's prompt", async () => {
    llm.load([
      {
        match: { role: 'planner', contains: 'add a /health endpoint' },
        content: JSON.stringify({
          steps: ['Add src/health.js'],
          files: ['src/health.js'],
          verify: 'npm test',
        }),
      },
      {
        match: { role: 'coder' },
        toolCalls: [
          {
            name: 'write_file',
            arguments: { path: 'src/health.js', content: 'export const health = () => ({ ok: true });\n' },
          },
        ],
      },
      { match: { role: 'coder', afterToolResult: true }, content: 'Added src/health.js.' },
      synth(FIRST_SUMMARY),
    ]);
    const first = await devbot.api.createTask({
      kind: 'dev',
      repo: REPO,
      prompt: `add a /health endpoint (the deploy key is ${SECRET})`,
    });
    expect((await devbot.api.waitForEnd(first.body.id)).status).toBe('succeeded');
    expect(llm.errors).toEqual([]);
    await devbot.app.modules.memory.idle();

    const firstPlannerPrompt = JSON.stringify(llm.requests.find((r) => r.role === 'planner')?.body.messages);
    expect(firstPlannerPrompt).not.toContain('Memories from earlier tasks');

    llm.load([
      {
        match: { role: 'planner', contains: 'Memories from earlier tasks' },
        content: JSON.stringify({
          steps: ['Extend src/health.js'],
          files: ['src/health.js'],
          verify: 'npm test',
        }),
      },
      { match: { role: 'coder' }, content: 'Nothing to change.' },
      synth('Reported the version in /health.'),
    ]);
    const before = llm.requests.length;
    const second = await devbot.api.createTask({
      kind: 'dev',
      repo: REPO,
      prompt: 'make the /health endpoint report the version',
    });
    expect((await devbot.api.waitForEnd(second.body.id)).status).toBe('succeeded');
    expect(llm.errors).toEqual([]);
    const planner = llm.requests.slice(before).find((r) => r.role === 'planner');
    const prompt = JSON.stringify(planner?.body.messages);
    expect(prompt).toContain('Memories from earlier tasks');
    expect(prompt).toContain('Added GET /health in src/health.js');
    expect(prompt).toContain('Files changed: src/health.js');
    expect(prompt).toContain('Verified with: npm test');
  });

  it('serves the saved memories on GET /memories to admin tokens', async () => {
    const admin = await devbot.client('root', ['tasks:read', 'admin']);
    const res = await fetch(
      `${devbot.app.url}/memories?repo=${encodeURIComponent(REPO)}&q=health%20endpoint`,
      {
        headers: { authorization: `Bearer ${admin.token}` },
      },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      memories: { kind: string; content: string; embeddingModel: string }[];
    };
    expect(body.memories.map((m) => m.kind)).toContain('task');
    expect(body.memories[0]?.embeddingModel).toBe(HASHING_MODEL);
    expect(body.memories.some((m) => m.content.includes(FIRST_SUMMARY))).toBe(true);
    const everything = await fetch(`${devbot.app.url}/memories?limit=200`, {
      headers: { authorization: `Bearer ${admin.token}` },
    });
    const stored = await everything.text();
    expect(stored).toContain('the deploy key is [redacted]');
    expect(stored).not.toContain(SECRET);

    const user = await devbot.client('alice');
    const denied = await fetch(`${devbot.app.url}/memories?repo=${encodeURIComponent(REPO)}`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(denied.status).toBe(403);
    expect((await fetch(`${devbot.app.url}/memories`)).status).toBe(401);

    // DELETE forgets (what `devbot memory forget` calls while devbot holds the embedded database):
    // admins only, and never everything at once.
    const forget = (client: { token: string }, query: string) =>
      fetch(`${devbot.app.url}/memories${query}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${client.token}` },
      });
    await memory().remember({ repo: 'acme/forget-me', kind: 'note', content: 'a note to forget' });
    expect((await forget(user, '?repo=acme/forget-me')).status).toBe(403);
    expect((await forget(admin, '')).status).toBe(400);
    expect(await (await forget(admin, '?repo=acme/forget-me')).json()).toEqual({ forgotten: 1 });
  });

  it("gives the coder recall and remember tools bound to the task's repository", async () => {
    const OTHER = 'acme/other';
    const NOTE = 'The /health endpoint lives in src/health.js and npm test covers it.';
    // Same words, another repository: the coder of an acme/service task must not see it.
    await memory().remember({
      repo: OTHER,
      kind: 'note',
      content: 'Added GET /health in src/health.js of acme/other, answering {"ok":false}.',
    });
    llm.load([
      {
        match: { role: 'planner' },
        content: JSON.stringify({
          steps: ['Check src/health.js'],
          files: ['src/health.js'],
          verify: 'npm test',
        }),
      },
      {
        match: { role: 'coder' },
        toolCalls: [{ name: 'recall', arguments: { query: 'add a /health endpoint' } }],
      },
      {
        match: { role: 'coder', afterToolResult: true },
        toolCalls: [{ name: 'remember', arguments: { content: NOTE } }],
      },
      { match: { role: 'coder', afterToolResult: true }, content: 'Remembered where /health lives.' },
      synth('Looked at /health.'),
    ]);
    const before = llm.requests.length;
    const third = await devbot.api.createTask({
      kind: 'dev',
      repo: REPO,
      prompt: 'document the /health endpoint',
    });
    expect((await devbot.api.waitForEnd(third.body.id)).status).toBe('succeeded');
    expect(llm.errors).toEqual([]);
    await devbot.app.modules.memory.idle();

    const coder = llm.requests.slice(before).filter((r) => r.role === 'coder');
    expect(coder).toHaveLength(3);
    const toolNames = coder[0]?.body.tools?.map((t) => t.function.name) ?? [];
    expect(toolNames).toEqual(expect.arrayContaining(['read_file', 'write_file', 'remember', 'recall']));
    expect(JSON.stringify(coder[0]?.body.messages[0])).toContain('- recall: ');

    // The recall result: the first task's memory, fenced as untrusted; nothing from acme/other.
    const recalled = coder[1]?.body.messages.at(-1);
    expect(recalled?.role).toBe('tool');
    const recalledText = String(recalled?.content);
    expect(recalledText).toContain(FIRST_SUMMARY);
    expect(recalledText).toMatch(/<untrusted-[0-9a-f]{8} source="memory: task from /);
    expect(recalledText).not.toContain('acme/other');
    expect(String(coder[2]?.body.messages.at(-1)?.content)).toContain('remembered (note)');

    const notes = await memory().list({ repo: REPO, kind: 'note' });
    expect(notes.map((m) => m.content)).toEqual([NOTE]);
    expect(notes[0]?.taskId).toBe(third.body.id);
    expect(notes[0]?.metadata).toMatchObject({ by: 'agent' });
    expect(await memory().list({ repo: OTHER, kind: 'note' })).toHaveLength(1);

    const admin = await devbot.client('root', ['tasks:read', 'admin']);
    const res = await fetch(`${devbot.app.url}/memories?repo=${encodeURIComponent(REPO)}&limit=200`, {
      headers: { authorization: `Bearer ${admin.token}` },
    });
    expect(res.status).toBe(200);
    const listed = (await res.json()) as { memories: { kind: string; content: string }[] };
    expect(listed.memories).toContainEqual(expect.objectContaining({ kind: 'note', content: NOTE }));
  });
});
