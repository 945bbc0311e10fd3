/**
 * A dev task on a repository with an npm dependency, end to end with network on
 * (DEVBOT_SANDBOX_NETWORK=allowlist, the default allowlist): a labeled issue -> the crew edits ->
 * the executor installs with `npm ci` through the sandbox's egress proxy from the real npm
 * registry -> the real tests pass -> a PR with only the source change (no node_modules, no npm
 * cache, even though the repository has no .gitignore). Skipped when the registry is unreachable.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../../src/core/index.js';
import { type FakeGithub, startFakeGithub } from '../fakes/github/fake-github.js';
import { deliver, issueLabeled } from '../fakes/github/webhook-payloads.js';
import { type ScriptedLlmServer, startScriptedLlm } from '../fakes/llm/scripted-llm-server.js';
import { fixtureFiles, githubAppEnv } from '../helpers/github-fixtures.js';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';
import { captureLogger, taskEnded } from '../helpers/test-env.js';

const execFileP = promisify(execFile);
const DEPS_REPO = fileURLToPath(new URL('../fixtures/deps-repo', import.meta.url));
const OWNER = 'acme';
const REPO = 'padding';
const SECRET = `whsec-${randomBytes(12).toString('hex')}`;
const FILE = 'src/pad.js';
const registryReachable = await lookup('registry.npmjs.org').then(
  () => true,
  () => false,
);

let gh: FakeGithub;
let llm: ScriptedLlmServer;
let devbot: TestDevbot;
const log = captureLogger(() => devbot?.app.runtime.secrets.values() ?? []);

beforeAll(async () => {
  if (!registryReachable) return;
  [gh, llm] = await Promise.all([startFakeGithub({ appId: 12345, appSlug: 'devbot' }), startScriptedLlm()]);
  await gh.createRepo({ owner: OWNER, name: REPO, files: fixtureFiles(DEPS_REPO) });
  gh.setPermission(OWNER, REPO, 'alice', 'write');
  devbot = await startTestDevbot({
    env: {
      ...githubAppEnv(gh, SECRET),
      OPENAI_BASE_URL: llm.baseUrl,
      OPENAI_API_KEY: `sk-test-${randomBytes(8).toString('hex')}`,
      DEVBOT_MODEL: 'scripted',
      DEVBOT_SANDBOX_NETWORK: 'allowlist',
      DEVBOT_SANDBOX_TIMEOUT_MS: '120000',
    },
    logger: log.logger,
    github: { minEditIntervalMs: 50, throttle: false },
  });
}, 60_000);

afterAll(async () => {
  await devbot?.stop();
  await Promise.all([gh?.close(), llm?.close()]);
});

describe('a dev task that needs its dependencies installed', () => {
  it.skipIf(!registryReachable)(
    'installs through the egress proxy, passes the real tests and commits only the source',
    async () => {
      llm.load([
        {
          match: { role: 'planner' },
          content: JSON.stringify({ steps: ['Pad to four digits'], files: [FILE], verify: 'npm test' }),
        },
        {
          match: { role: 'coder' },
          toolCalls: [
            {
              name: 'edit_file',
              arguments: {
                path: FILE,
                search: "leftPad(String(n), 3, '0')",
                replace: "leftPad(String(n), 4, '0')",
              },
            },
          ],
        },
        { match: { role: 'coder', afterToolResult: true }, content: 'Pads to four digits now.' },
        {
          match: { role: 'synthesizer', contains: 'Tests: 1 passed, 0 failed' },
          content: JSON.stringify({
            summary: 'padNumber pads to four digits.',
            steps: ['Changed the width to 4'],
            prTitle: 'Pad issue numbers to four digits',
            prBody: 'Uses a width of four.',
            chatReply: 'Done.',
          }),
        },
      ]);
      const issue = gh.createIssue(OWNER, REPO, {
        title: 'Pad to four digits',
        body: 'Branch numbers should have four digits.',
        user: 'alice',
        labels: ['devbot'],
      });
      const res = await deliver(
        `${devbot.app.url}/api/github/webhooks`,
        SECRET,
        issueLabeled(gh, OWNER, REPO, issue.number, 'devbot', 'alice'),
      );
      expect(res.status).toBe(200);
      const [created] = await devbot.app.runtime.store.listTasks({ source: 'github' });
      const done = await taskEnded(devbot.app.runtime.store, created!.id, 90_000);
      const events = await devbot.app.runtime.store.listEvents(done.id);
      const commands = events
        .filter((e) => e.type === 'command.finished')
        .map((e) => `${String(e.data['command'])} -> ${String(e.data['exitCode'])}`);
      expect((done as Task).error, commands.join('\n')).toBeNull();
      expect(done.status).toBe('succeeded');
      expect(commands).toEqual(['npm ci --no-audit --no-fund -> 0', 'npm test -> 0']);
      expect(llm.errors).toEqual([]);

      // Only the source: the installed node_modules and npm's cache (HOME is the workspace) stay out.
      const { stdout } = await execFileP('git', ['diff', '--name-only', 'main', done.branch!], {
        cwd: gh.barePath(OWNER, REPO),
      });
      expect(stdout.split('\n').filter(Boolean)).toEqual([FILE]);
      const pr = gh.repo(OWNER, REPO).pulls[0]!;
      expect(pr.body).toContain('✅ `npm ci --no-audit --no-fund`');
      expect(pr.body).toContain('✅ `npm test`');
    },
    120_000,
  );
});
