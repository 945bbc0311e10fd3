import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryCli } from '../../src/cli/memory-command.js';
import { loadConfig } from '../../src/config/config.js';
import { openMemory } from '../../src/memory/open-memory.js';
import { migrate } from '../../src/store/migrate.js';
import { createPgliteClient } from '../../src/store/pglite-client.js';

const dataDir = mkdtempSync(join(tmpdir(), 'devbot-memory-cli-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('devbot memory on the embedded database', () => {
  it('lists, searches and forgets what devbot stored in its data directory', async () => {
    const config = loadConfig({ DEVBOT_DATA_DIR: dataDir });
    // What a running devbot would have saved (then it stopped: PGlite has one user at a time).
    const sql = await createPgliteClient({ dataDir: join(dataDir, 'pglite') });
    await migrate(sql);
    const { service } = await openMemory({ sql, config });
    await service.remember({
      repo: 'acme/web',
      kind: 'commands',
      content: 'Verified with: npm test and npm run lint',
    });
    await service.remember({
      repo: 'acme/web',
      kind: 'task',
      content: 'Added a dark-mode toggle in src/theme.ts',
    });
    await sql.close();

    const lines: string[] = [];
    const write = (line: string) => lines.push(line);
    expect(
      await memoryCli(['search', 'how to run the tests', '--repo', 'acme/web', '--json'], config, write),
    ).toBe(0);
    const hits = lines.map((l) => JSON.parse(l) as { kind: string; content: string });
    expect(hits[0]?.kind).toBe('commands');

    lines.length = 0;
    await memoryCli(['forget', '--repo', 'acme/web', '--kind', 'task'], config, write);
    expect(lines).toEqual(['forgot 1 memory']);

    lines.length = 0;
    await memoryCli(['list'], config, write);
    expect(lines.filter((l) => !l.startsWith('    ')).map((l) => l.split('  ').slice(1, 3))).toEqual([
      ['acme/web', 'commands'],
    ]);
    // A new cluster and three opens of it (each CLI command starts the database's thread).
  }, 60_000);
});
