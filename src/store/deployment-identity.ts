import { randomBytes } from 'node:crypto';
import type { SqlClient } from '../core/index.js';

/**
 * This deployment's id, made at its first start and kept in its database: every process of one
 * deployment (gateway, workers, bot on one PostgreSQL) shares it; another deployment has another.
 */
export async function deploymentIdentity(sql: Pick<SqlClient, 'query'>): Promise<string> {
  await sql.query(
    'INSERT INTO deployment (singleton, id) VALUES (TRUE, $1) ON CONFLICT (singleton) DO NOTHING',
    [randomBytes(6).toString('hex')],
  );
  const res = await sql.query<{ id: string }>('SELECT id FROM deployment WHERE singleton');
  const id = res.rows[0]?.id;
  if (!id) throw new Error('the deployment row is missing after it was written');
  return id;
}

/** The queue prefix of a deployment that did not set DEVBOT_QUEUE_PREFIX. */
export function derivedQueuePrefix(deployment: string): string {
  return `{devbot-${deployment}}`;
}
