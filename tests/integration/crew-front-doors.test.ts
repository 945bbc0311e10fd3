/**
 * The crew through the front doors (issue 6), end to end in one whole devbot (real Redis, PGlite):
 * the real local bubblewrap sandbox, the agents module's crew as the repo pipeline's agent (wired
 * as src/app/build-modules.ts does), the scripted LLM, the fake GitHub (REST + real git) and the fake
 * Telegram Bot API.
 *
 * 1. A signed `issues.labeled` webhook -> dev task -> plan, edits, the real `node --test` failing,
 *    the fix, passing, the preview, the synthesizer -> pushed branch, PR `Closes #N`, check run,
 *    sticky comment.
 * 2. A Telegram chat bound with `/repo` -> plain text -> the router's LLM turn says dev -> the same
 *    crew -> PR -> a result message with PR and preview buttons; the preview serves the fixed code.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GithubModule } from '../../src/app/modules/github-module.js';
import type { TelegramModule } from '../../src/app/modules/telegram-module.js';
import type { Task, TaskEvent } from '../../src/core/index.js';
import { SqlSubjectAccess } from '../../src/store/sql-subject-access.js';
import { type FakeGithub, startFakeGithub } from '../fakes/github/fake-github.js';
import { deliver, issueCommentCreated, issueLabeled } from '../fakes/github/webhook-payloads.js';
import {
  type ScriptedLlmServer,
  type ScriptedTurn,
  startScriptedLlm,
} from '../fakes/llm/scripted-llm-server.js';
import { FakeTelegramServer, type StoredMessage } from '../fakes/telegram/index.js';
import { fixtureFiles, githubAppEnv } from '../helpers/github-fixtures.js';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';
import { captureLogger, taskEnded } from '../helpers/test-env.js';

const execFileP = promisify(execFile);
const SMALL_REPO = fileURLToPath(new URL('../fixtures/small-repo', import.meta.url));
const OWNER = 'acme';
const REPO = 'slugs';
const SECRET = `whsec-${randomBytes(12).toString('hex')}`;
const ALICE = 1001;
const FILE = 'src/slugify.js';

/**
 * The crew's conversation: plan, explore, a first edit (lower-case only), the executor's real
 * `node --test` fails on the trimming test, the fix, the tests pass, the synthesizer writes it up.
 * Each turn checks the request it answers, so a turn reached in the wrong state fails loudly.
 */
function crewTurns(tag: string): ScriptedTurn[] {
  return [
    {
      match: { role: 'planner', contains: 'AGENTS.md' },
      content: JSON.stringify({
        steps: ['Read src/slugify.js', 'Lower-case and trim separators', 'Run node --test'],
        files: [FILE],
        verify: 'node --test test/*.test.js',
      }),
    },
    { match: { role: 'coder' }, toolCalls: [{ name: 'list_files', arguments: { path: '.' } }] },
    {
      match: { role: 'coder', contains: 'slugify.js (' },
      toolCalls: [{ name: 'read_file', arguments: { path: FILE } }],
    },
    {
      match: { role: 'coder', contains: 'export function slugify' },
      toolCalls: [
        {
          name: 'edit_file',
          arguments: {
            path: FILE,
            search: "return text.replace(/[^A-Za-z0-9]+/g, '-');",
            replace: "return text.toLowerCase().replace(/[^a-z0-9]+/g, '-');",
          },
        },
      ],
    },
    {
      match: { role: 'coder', afterToolResult: true, contains: `edited ${FILE}` },
      content: 'Lower-cased the slug.',
    },
    // Round 2: the failing test's own output comes back from the executor.
    {
      match: { role: 'coder', contains: 'drops leading and trailing separators' },
      toolCalls: [
        {
          name: 'edit_file',
          arguments: {
            path: FILE,
            search: ".replace(/[^a-z0-9]+/g, '-');",
            replace: ".replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');",
          },
        },
      ],
    },
    { match: { role: 'coder', afterToolResult: true }, content: 'Trimmed the dashes at both ends.' },
    {
      match: { role: 'synthesizer', contains: 'Tests: 3 passed, 0 failed' },
      content: JSON.stringify({
        summary: `slugify now lower-cases and trims separators (${tag}).`,
        steps: ['Lower-cased the slug', 'Trimmed leading and trailing dashes'],
        prTitle: `Fix slugify (${tag})`,
        prBody: 'Fixes `slugify` so titles become clean slugs.',
        chatReply: 'Fixed slugify; all 3 tests pass.',
      }),
    },
  ];
}

const FIXED_SOURCE = "return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');";

let gh: FakeGithub;
let llm: ScriptedLlmServer;
let tg: FakeTelegramServer;
let devbot: TestDevbot;
let github: GithubModule;
let telegram: TelegramModule;
let hookUrl: string;
const log = captureLogger(() => devbot?.app.runtime.secrets.values() ?? []);

function finished(id: string): Promise<Task> {
  return taskEnded(devbot.app.runtime.store, id, 40_000);
}

/** Events of one type, with their payloads as plain records (the test reads fields loosely). */
function eventsOf(events: TaskEvent[], type: string): { type: string; data: Record<string, unknown> }[] {
  return events.filter((e) => e.type === type) as { type: string; data: Record<string, unknown> }[];
}

/** What both front doors share: the crew really ran the tests in the sandbox, failing then passing. */
async function expectCrewRan(task: Task): Promise<TaskEvent[]> {
  const events = await devbot.app.runtime.store.listEvents(task.id);
  const tests = eventsOf(events, 'command.finished').filter((e) =>
    String(e.data['command'] ?? '').includes('node --test'),
  );
  expect(
    tests.map((e) => e.data['exitCode']),
    JSON.stringify(tests),
  ).toEqual([1, 0]);
  // The preview is announced once, by whoever exposed it (the crew), not again by the pipeline.
  expect(eventsOf(events, 'preview_ready')).toHaveLength(1);
  const phases = eventsOf(events, 'step').map((e) => e.data['phase']);
  for (const phase of [
    'checkout',
    'sandbox',
    'planning',
    'coding',
    'testing',
    'preview',
    'summarizing',
    'commit',
    'push',
  ])
    expect(phases, phases.join(',')).toContain(phase);
  expect(phases.filter((p) => p === 'testing')).toHaveLength(2);
  expect(eventsOf(events, 'pr_opened')).toHaveLength(1);
  expect(llm.errors).toEqual([]);
  expect(llm.remaining()).toBe(0);
  return events;
}

beforeAll(async () => {
  [gh, llm, tg] = await Promise.all([
    startFakeGithub({ appId: 12345, appSlug: 'devbot' }),
    startScriptedLlm(),
    new FakeTelegramServer().start(),
  ]);
  await gh.createRepo({ owner: OWNER, name: REPO, files: fixtureFiles(SMALL_REPO) });
  gh.setPermission(OWNER, REPO, 'alice', 'write');

  devbot = await startTestDevbot({
    env: {
      ...githubAppEnv(gh, SECRET),
      OPENAI_BASE_URL: llm.baseUrl,
      OPENAI_API_KEY: `sk-test-${randomBytes(8).toString('hex')}`,
      DEVBOT_MODEL: 'scripted',
      TELEGRAM_BOT_TOKEN: tg.token,
      TELEGRAM_API_ROOT: tg.apiRoot,
      TELEGRAM_ALLOWED_USER_IDS: String(ALICE),
      DEVBOT_PREVIEW_TTL: '120',
      DEVBOT_SANDBOX_TIMEOUT_MS: '60000',
      LOG_LEVEL: 'debug',
    },
    logger: log.logger,
    // The production wiring, with the test knobs: no write throttling against the fake, short
    // edit intervals and pacing; the fakes' URLs come through the env.
    github: { minEditIntervalMs: 50, throttle: false },
    telegram: {
      outbox: { intervalMs: () => 50, backoffMs: 20, maxRetryAfterMs: 2000 },
      pollingTimeoutSeconds: 1,
      retryDelayMs: { initial: 50, max: 500 },
      flushMs: 2000,
    },
  });
  github = devbot.app.modules.github as GithubModule;
  expect(github).toBeDefined();
  hookUrl = `${devbot.app.url}/api/github/webhooks`;
  telegram = devbot.app.modules.telegram as TelegramModule;
  // The chat user acts as alice, who has write access on the fake GitHub.
  await new SqlSubjectAccess(devbot.app.runtime.sql).link(`tg:${ALICE}`, 'alice');
  await telegram.bot.ready();
}, 60_000);

afterAll(async () => {
  await devbot?.stop();
  await Promise.all([gh?.close(), llm?.close(), tg?.close()]);
});

describe('the crew through the front doors (real local sandbox)', () => {
  it('GitHub: a labeled issue -> crew (fail, fix, pass) -> PR with the change, Closes #N, tests in the body, check run, final sticky comment', async () => {
    llm.load(crewTurns('issue'));
    const issue = gh.createIssue(OWNER, REPO, {
      title: 'slugify keeps capitals',
      body: 'Titles should become lower-case slugs without dashes at the ends.',
      user: 'alice',
      labels: ['devbot'],
    });
    const res = await deliver(
      hookUrl,
      SECRET,
      issueLabeled(gh, OWNER, REPO, issue.number, 'devbot', 'alice'),
    );
    expect(res.status).toBe(200);
    const [task] = await devbot.app.runtime.store.listTasks({ source: 'github' });
    expect(task).toMatchObject({ kind: 'dev', repo: `${OWNER}/${REPO}`, requester: 'gh:alice' });
    const done = await finished(task!.id);
    expect(devbot.app.runtime.sandboxes.name).toBe('local');
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    await expectCrewRan(done);

    // The crew's change, committed and pushed by the host into the fake's bare repository.
    const branch = done.branch!;
    expect(branch).toBe(`devbot/${issue.number}-slugify-keeps-capitals`);
    const [head] = await gh.gitLog(OWNER, REPO, branch, '%H%x09%s');
    const [sha, subject] = head!.split('\t');
    expect(subject).toBe('Fix slugify (issue)');
    const source = await gh.gitShow(OWNER, REPO, `${branch}:${FILE}`);
    expect(source).toContain(FIXED_SOURCE);
    // Only the source changed: no sandbox leftovers (.git of the baseline, node caches) in the commit.
    expect(await changedOnBranch(branch)).toEqual([FILE]);

    const pulls = gh.repo(OWNER, REPO).pulls;
    expect(pulls).toHaveLength(1);
    const pr = pulls[0]!;
    expect(pr).toMatchObject({ head: branch, base: 'main', title: 'Fix slugify (issue)' });
    expect(pr.body).toContain(`Closes #${issue.number}`);
    expect(pr.body).toContain('✅ `node --test test/*.test.js`');
    expect(pr.body).toMatch(/3 passed, 0 failed/);
    expect(done.prUrl).toBe(`${gh.webUrl}/${OWNER}/${REPO}/pull/${pr.number}`);

    // The preview of the fixed code, through the gateway.
    expect(done.previewUrl).toMatch(new RegExp(`^${devbot.app.url}/preview/[A-Za-z0-9_-]+/$`));
    const page = await fetch(`${done.previewUrl}?title=${encodeURIComponent('  Hello  World! ')}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toBe('hello-world\n');

    await github.reporter.idle(done.id);
    // The live check run starts on the base commit (closed as neutral) and moves to the head.
    const all = gh.repo(OWNER, REPO).checkRuns;
    expect(all.filter((r) => r.headSha !== sha).map((r) => r.conclusion)).toEqual(['neutral']);
    const runs = all.filter((r) => r.headSha === sha);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ headSha: sha, status: 'completed', conclusion: 'success' });
    const sticky = gh.comments(OWNER, REPO, issue.number).filter((c) => c.user.login === 'devbot[bot]');
    expect(sticky).toHaveLength(1);
    expect(sticky[0]!.body).toContain('✅');
    expect(sticky[0]!.body).toContain('slugify now lower-cases and trims separators (issue).');
    expect(sticky[0]!.body).toContain(done.prUrl!);
  }, 60_000);

  it('Telegram: /repo binds the chat, plain text is routed as dev by the LLM, the crew opens a PR, the result has PR and preview buttons', async () => {
    const before = llm.requests.length;
    llm.load([
      {
        match: { role: 'router', contains: 'fix the slugify bug' },
        content: JSON.stringify({ kind: 'dev', confidence: 0.92, command: null, repo: null }),
      },
      ...crewTurns('chat'),
    ]);
    tg.sendUserMessage({ from: ALICE, text: `/repo ${OWNER}/${REPO}` });
    await tg.waitForMessage((m) => m.text.includes(`now works on ${OWNER}/${REPO}`), { chatId: ALICE });

    const update = tg.sendUserMessage({ from: ALICE, text: 'fix the slugify bug' });
    const userMessageId = (update.message as { message_id: number }).message_id;
    const result = await tg.waitForMessage((m) => isResult(m) && m.replyToMessageId === userMessageId, {
      chatId: ALICE,
      timeoutMs: 45_000,
    });

    const [task] = await devbot.app.runtime.store.listTasks({ source: 'telegram', requester: `tg:${ALICE}` });
    expect(task).toMatchObject({ kind: 'dev', repo: `${OWNER}/${REPO}`, prompt: 'fix the slugify bug' });
    const done = await finished(task!.id);
    expect(done.status, done.error ?? '').toBe('succeeded');
    const events = await expectCrewRan(done);
    expect(llm.requests[before]?.role).toBe('router');
    expect(eventsOf(events, 'task.routed')[0]?.data ?? {}).toMatchObject({ kind: 'dev' });

    // The PR in the fake GitHub: the chat's change, no issue to close.
    const pr = gh.repo(OWNER, REPO).pulls.find((p) => p.head === done.branch);
    expect(pr).toBeDefined();
    expect(pr!.title).toBe('Fix slugify (chat)');
    expect(pr!.body).not.toContain('Closes #');
    expect(await gh.gitShow(OWNER, REPO, `${done.branch}:${FILE}`)).toContain(FIXED_SOURCE);
    const trailers = await gh.gitLog(OWNER, REPO, done.branch!, '%(trailers:key=Requested-by,valueonly)');
    expect(trailers[0]).toContain(`tg:${ALICE}`);

    // The result message: the crew's chat reply and two URL buttons, the preview serving the fixed code.
    expect(result.text).toMatch(/^✅ Done ·/);
    expect(result.text).toContain('Fixed slugify; all 3 tests pass.');
    // The same typed reply reaches memory: the chat turn remembered for the repository.
    expect(done.result?.reply).toBe('Fixed slugify; all 3 tests pass.');
    await devbot.app.modules.memory.idle();
    const turns = await devbot.app.modules.memory.memory?.list({ repo: `${OWNER}/${REPO}`, kind: 'chat' });
    expect(turns?.map((m) => m.content).join('\n')).toContain('devbot: Fixed slugify; all 3 tests pass.');
    const buttons = (
      result.replyMarkup as { inline_keyboard: { text: string; url: string }[][] }
    ).inline_keyboard.flat();
    expect(buttons.find((b) => b.text.includes('Pull request'))?.url).toBe(done.prUrl);
    const preview = buttons.find((b) => b.text.includes('Preview'));
    expect(preview?.url).toBe(done.previewUrl);
    const page = await fetch(`${preview!.url}?title=Release%202%20notes`);
    expect(page.status).toBe(200);
    expect(await page.text()).toBe('release-2-notes\n');
    const [status] = tg.botMessages(ALICE).filter((m) => m.replyToMessageId === userMessageId);
    expect(status?.messageId).toBeLessThan(result.messageId);
    // The status message followed the crew: routing, the failing check, then the end.
    const history = status?.history.join('\n') ?? '';
    expect(history).toContain('routed as dev');
    expect(history).toContain('Running checks: node --test test/*.test.js');
    expect(status?.text).toContain('Done');
  }, 60_000);

  it('GitHub: /devbot review on the PR -> the read-only reviewer (diff in its prompt, no coder) -> one review with an inline comment, nothing pushed', async () => {
    const pr = gh.repo(OWNER, REPO).pulls[0]!;
    const headBefore = await gh.gitLog(OWNER, REPO, pr.head, '%H');
    const reviewsBefore = gh.repo(OWNER, REPO).reviews.length;
    const before = llm.requests.length;
    llm.load([
      {
        // The PR's diff reaches the reviewer, fenced; the checked-out code is the PR's branch.
        match: { role: 'reviewer', contains: '+++ b/src/slugify.js' },
        toolCalls: [{ name: 'read_file', arguments: { path: FILE } }],
      },
      {
        match: { role: 'reviewer', contains: "replace(/^-+|-+$/g, '')" },
        toolCalls: [
          {
            name: 'add_review_comment',
            arguments: {
              path: FILE,
              line: 3,
              body: 'Non-ASCII letters become dashes; say so in the doc comment.',
            },
          },
        ],
      },
      {
        match: { role: 'reviewer', afterToolResult: true },
        content: 'Looks right; one note on non-ASCII input.',
      },
    ]);
    const comment = gh.addComment(OWNER, REPO, pr.number, '/devbot review', 'alice');
    const res = await deliver(hookUrl, SECRET, issueCommentCreated(gh, OWNER, REPO, comment));
    expect(res.status).toBe(200);
    const task = (await devbot.app.runtime.store.listTasks({ source: 'github' })).find(
      (t) => t.kind === 'followup' && t.input.mode === 'review',
    );
    expect(task).toBeDefined();
    const done = await finished(task!.id);
    expect(done.status, done.error ?? '').toBe('succeeded');
    expect(llm.errors).toEqual([]);
    expect(llm.remaining()).toBe(0);
    // Only the reviewer spoke: no planner, coder or synthesizer for a review.
    expect(new Set(llm.requests.slice(before).map((r) => r.role))).toEqual(new Set(['reviewer']));
    const added = gh.repo(OWNER, REPO).reviews.slice(reviewsBefore);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ state: 'COMMENTED', body: 'Looks right; one note on non-ASCII input.' });
    const inline = gh.repo(OWNER, REPO).reviewComments.filter((c) => c.reviewId === added[0]!.id);
    expect(inline.map((c) => [c.path, c.line])).toEqual([[FILE, 3]]);
    expect(await gh.gitLog(OWNER, REPO, pr.head, '%H')).toEqual(headBefore);
  }, 60_000);

  it('no secret (installation token, webhook secret, bot token, API key) reached the LLM or the sandbox', async () => {
    const prompts = JSON.stringify(llm.requests.map((r) => r.body.messages));
    expect(prompts).toContain('slugify');
    const secrets = [
      ...gh.issuedTokens,
      SECRET,
      tg.token,
      devbot.config.OPENAI_API_KEY ?? 'unset',
      devbot.config.GITHUB_PRIVATE_KEY ?? 'unset',
    ];
    const events: TaskEvent[] = [];
    for (const t of await devbot.app.runtime.store.listTasks({}))
      events.push(...(await devbot.app.runtime.store.listEvents(t.id)));
    const eventText = JSON.stringify(events);
    const logText = log.lines.join('');
    expect(gh.issuedTokens.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      expect(prompts.includes(secret), 'secret in an LLM prompt').toBe(false);
      expect(eventText.includes(secret), 'secret in task events').toBe(false);
      expect(logText.includes(secret), 'secret in the logs').toBe(false);
    }
    // The sandbox's environment holds no credentials (the crew's `env` would have shown them).
    const box = await devbot.app.runtime.sandboxes.create({ taskId: 'secret-check' });
    try {
      const env = await box.exec(
        'env; cat ~/.git-credentials 2>/dev/null; git config --global -l 2>/dev/null',
      );
      for (const secret of secrets) expect(env.stdout.includes(secret)).toBe(false);
    } finally {
      await box.close();
    }
  });
});

/** Files that differ between main and the branch in the fake's bare repository. */
async function changedOnBranch(branch: string): Promise<string[]> {
  const { stdout } = await execFileP('git', ['diff', '--name-only', 'main', branch], {
    cwd: gh.barePath(OWNER, REPO),
  });
  return stdout.split('\n').filter(Boolean);
}

function isResult(m: StoredMessage): boolean {
  return /^(✅|❌|🚫) (Done|Failed|Cancelled) ·/.test(m.text);
}
