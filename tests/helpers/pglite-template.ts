import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqlClient } from '../../src/core/sql-client.js';
import { MIGRATIONS_DIR, migrate } from '../../src/store/migrate.js';
import { createPgliteClient } from '../../src/store/pglite-client.js';
import { tempDir } from './test-env.js';

/**
 * A fresh PGlite takes seconds to initialise; opening an existing data directory takes about
 * half a second. So the tests build one migrated data directory (keyed on the migrations'
 * content) and each test copies it.
 */
function templateDir(): string {
  const hash = createHash('sha256');
  for (const f of readdirSync(MIGRATIONS_DIR).sort())
    hash.update(f).update(readFileSync(join(MIGRATIONS_DIR, f)));
  return join(tmpdir(), `devbot-pglite-template-${hash.digest('hex').slice(0, 12)}`);
}

export async function ensurePgliteTemplate(): Promise<string> {
  const dir = templateDir();
  if (existsSync(join(dir, 'PG_VERSION'))) return dir;
  const building = `${dir}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  const sql = await createPgliteClient({ dataDir: building });
  await migrate(sql);
  await sql.close();
  try {
    renameSync(building, dir);
  } catch {
    // Another process built it first.
    rmSync(building, { recursive: true, force: true });
  }
  return dir;
}

/** A migrated PGlite of this test's own, in a temp copy of the template. */
export async function openTestPglite(): Promise<SqlClient & { dataDir: string }> {
  const template = await ensurePgliteTemplate();
  const dataDir = join(tempDir('devbot-pglite-'), 'db');
  cpSync(template, dataDir, { recursive: true });
  const sql = await createPgliteClient({ dataDir });
  const close = sql.close.bind(sql);
  return Object.assign(sql, {
    dataDir,
    async close() {
      await close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
}
