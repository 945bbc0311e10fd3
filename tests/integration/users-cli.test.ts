/**
 * `devbot users`: links and grants land in the store the running devbot reads, and bad arguments
 * are refused with a message. The command's logic runs on a shared PGlite; one run of the real
 * binary shows the wiring (argument parsing, the data directory, exit codes).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runUsersCommand } from '../../src/cli/users-command.js';
import type { SqlClient } from '../../src/core/index.js';
import { createPgliteClient } from '../../src/store/pglite-client.js';
import { SqlSubjectAccess } from '../../src/store/sql-subject-access.js';
import { openTestPglite } from '../helpers/pglite-template.js';

const ROOT = resolve(import.meta.dirname, '../..');
let sql: SqlClient;
let access: SqlSubjectAccess;

beforeAll(async () => {
  sql = await openTestPglite();
  access = new SqlSubjectAccess(sql);
});
afterAll(async () => sql?.close());

async function users(...argv: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await runUsersCommand(argv, access, (line) => lines.push(line));
  return { code, lines };
}

describe('devbot users', () => {
  it('links, grants, lists, revokes and unlinks', async () => {
    expect((await users('link', 'tg:123', 'octocat')).code).toBe(0);
    expect((await users('grant', 'alice', 'acme/*')).code).toBe(0);
    expect((await users('list')).lines).toEqual(['alice\t-\tacme/*', 'tg:123\t@octocat\t-']);
    expect((await users('revoke', 'alice', 'acme/*')).lines[0]).toContain('may no longer');
    expect((await users('unlink', 'tg:123')).lines[0]).toContain('no longer linked');
    expect((await users('list')).lines).toEqual(['no links or grants yet']);
  });

  it('refuses a bad pattern, a bad login, a bad subject and an unknown command, saying why', async () => {
    await expect(users('grant', 'alice', 'acme/../x')).rejects.toThrow(/not a repository pattern/);
    await expect(users('link', 'tg:1', 'bad login!')).rejects.toThrow(/not a GitHub login/);
    await expect(users('grant', 'a b', 'acme/x')).rejects.toThrow(/not a subject/);
    await expect(users('grant', 'alice')).rejects.toThrow(/wrong arguments/);
    await expect(users('promote', 'alice')).rejects.toThrow(/unknown users command/);
  });

  it('the real command writes to the data directory a devbot on it reads', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'devbot-users-cli-'));
    try {
      const run = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
        execFile(
          process.execPath,
          [join(ROOT, 'bin/devbot.js'), 'users', 'grant', 'alice', 'acme/*'],
          {
            env: { PATH: process.env['PATH'] ?? '', DEVBOT_DATA_DIR: dataDir, LOG_LEVEL: 'error' },
            timeout: 90_000,
          },
          (err, stdout, stderr) => done({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
        );
      });
      expect(run, run.stderr).toMatchObject({ code: 0 });
      expect(run.stdout).toContain('alice may now make devbot change acme/*');
      const db = await createPgliteClient({ dataDir: join(dataDir, 'pglite') });
      try {
        expect((await new SqlSubjectAccess(db).get('alice')).grants).toEqual(['acme/*']);
      } finally {
        await db.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
