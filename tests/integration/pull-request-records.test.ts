/** devbot's PR records on PostgreSQL (the PR-loop test covers PGlite): upserts and the attempt limit under a race. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlClient } from '../../src/core/sql-client.js';
import { migrate } from '../../src/store/migrate.js';
import { createPgClient } from '../../src/store/pg-client.js';
import { SqlPullRequestRecords } from '../../src/store/sql-pull-request-records.js';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../helpers/test-env.js';

const schema = uniqueSchema();
let sql: SqlClient;
let records: SqlPullRequestRecords;

beforeAll(async () => {
  sql = await createPgClient({ connectionString: TEST_DATABASE_URL, schema });
  await migrate(sql);
  records = new SqlPullRequestRecords(sql);
});

afterAll(async () => {
  await sql?.close();
  await dropSchema(schema);
});

describe('SqlPullRequestRecords (PostgreSQL)', () => {
  it('records in any order; the first opening task wins', async () => {
    await records.reviewRound('a/b', 1);
    await records.opened('a/b', 1, 'task-1');
    await records.opened('a/b', 1, 'task-2');
    expect(await records.get('a/b', 1)).toMatchObject({ taskId: 'task-1', reviewRounds: 1, outcome: 'open' });
    expect((await records.closed('a/b', 1, true)).outcome).toBe('merged');
    await records.closed('a/b', 2, false);
    expect(await records.countByOutcome()).toEqual({ open: 0, merged: 1, closed: 1 });
    expect((await records.byTask('task-1')).map((r) => r.number)).toEqual([1]);
  });

  it('ten deliveries racing for two attempts get two; autofix off refuses', async () => {
    const claims = await Promise.all(Array.from({ length: 10 }, () => records.claimCiFix('a/b', 3, 2)));
    const granted = claims.filter((c) => 'attempt' in c).map((c) => (c as { attempt: number }).attempt);
    expect(granted.sort()).toEqual([1, 2]);
    expect(claims.filter((c) => 'refused' in c && c.refused === 'limit')).toHaveLength(8);
    await records.setAutofix('a/b', 4, false);
    expect(await records.claimCiFix('a/b', 4, 2)).toEqual({ refused: 'autofix-off', attempts: 0 });
  });
});
