import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlClient } from '../../src/core/sql-client.js';
import { migrate } from '../../src/store/migrate.js';
import { createPgliteClient } from '../../src/store/pglite-client.js';
import { SqlChatBindings as ChatBindings } from '../../src/store/sql-chat-bindings.js';
import { SqlUpdateClaims as UpdateClaims } from '../../src/store/sql-update-claims.js';

describe('chat bindings and update claims (PGlite, real migrations)', () => {
  let sql: SqlClient;

  beforeAll(async () => {
    sql = await createPgliteClient();
    await migrate(sql);
  });
  afterAll(async () => sql?.close());

  it('binds a chat to a repository and keeps the rest of its state', async () => {
    const bindings = new ChatBindings(sql);
    expect(await bindings.get(-100)).toBeNull();
    await bindings.setSandbox(-100, 'sbx-1');
    const bound = await bindings.setRepo(-100, 'group', 'octo/hello');
    expect(bound).toMatchObject({ chatId: -100, chatType: 'group', repo: 'octo/hello', sandboxId: 'sbx-1' });
    await bindings.setRepo(-100, 'group', 'octo/other');
    expect((await bindings.get(-100))?.repo).toBe('octo/other');
    expect((await bindings.get(-100))?.sandboxId).toBe('sbx-1');
  });

  it('records shell history, newest last, capped', async () => {
    const bindings = new ChatBindings(sql);
    for (let i = 1; i <= 5; i++) await bindings.recordShell(42, `cmd ${i}`, `/workspace/d${i}`, 3);
    const binding = await bindings.get(42);
    expect(binding?.shellHistory).toEqual(['cmd 3', 'cmd 4', 'cmd 5']);
    expect(binding?.shellCwd).toBe('/workspace/d5');
  });

  it('claims an update once per bot, and can release it', async () => {
    const claims = new UpdateClaims(sql, 1);
    const otherBot = new UpdateClaims(sql, 2);
    expect(await claims.claim(10, 7)).toBe(true);
    expect(await claims.claim(10, 7)).toBe(false);
    expect(await otherBot.claim(10, 7)).toBe(true);
    await claims.release(10);
    expect(await claims.claim(10, 7)).toBe(true);
    expect(await claims.prune(7)).toBe(0);
  });
});
