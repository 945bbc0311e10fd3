/**
 * The CommandApprovalStore over any SqlClient: each request and each decision is written with its
 * task event in one statement, so a command is decided exactly once however many people (and the
 * timeout) answer at the same moment.
 */
import { randomUUID } from 'node:crypto';
import type {
  CommandApproval,
  CommandApprovalRequest,
  CommandApprovalStore,
  CommandDecision,
  TaskEvent,
} from '../core/index.js';
import type { SqlClient } from '../core/sql-client.js';
import { type EventRow, toEvent } from './sql-task-store.js';

interface Row {
  id: string;
  task_id: string;
  command: string;
  normalized: string;
  reasons: string;
  requested_at: Date | string;
  expires_at: Date | string;
  decision: CommandDecision | null;
  decided_by: string | null;
}

type WithEvent = Row & { ev_seq: number; ev_at: Date | string; ev_type: string; ev_data: EventRow['data'] };

const toDate = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));

function toApproval(row: Row): CommandApproval {
  return {
    id: row.id,
    taskId: row.task_id,
    command: row.command,
    normalized: row.normalized,
    reasons: row.reasons,
    requestedAt: toDate(row.requested_at),
    expiresAt: toDate(row.expires_at),
    decision: row.decision,
    decidedBy: row.decided_by,
  };
}

function split(row: WithEvent): { approval: CommandApproval; event: TaskEvent } {
  return {
    approval: toApproval(row),
    event: toEvent({
      task_id: row.task_id,
      seq: row.ev_seq,
      at: row.ev_at,
      type: row.ev_type,
      data: row.ev_data,
    } as EventRow),
  };
}

const REQUEST_SQL = `WITH t AS (
    UPDATE tasks SET updated_at = now(), event_seq = event_seq + 1
    WHERE id = $2 AND status = 'running'
    RETURNING id, event_seq
  ), a AS (
    INSERT INTO command_approvals (id, task_id, command, normalized, reasons, expires_at)
    SELECT $1, t.id, $3, $4, $5, $6::timestamptz FROM t
    RETURNING *
  ), e AS (
    INSERT INTO task_events (task_id, seq, type, data)
    SELECT t.id, t.event_seq, 'command.approval_requested',
      jsonb_build_object('id', $1::text, 'command', $3::text, 'reasons', $5::text, 'expiresAt', $7::text)
    FROM t, a
    RETURNING seq, at, type, data
  )
  SELECT a.*, e.seq AS ev_seq, e.at AS ev_at, e.type AS ev_type, e.data AS ev_data FROM a, e`;

const DECIDE_SQL = `WITH a AS (
    UPDATE command_approvals SET decided_at = now(), decided_by = $3, decision = $4
    WHERE id = $2 AND task_id = $1 AND decided_at IS NULL
    RETURNING *
  ), t AS (
    UPDATE tasks SET updated_at = now(), event_seq = event_seq + 1
    WHERE id = $1 AND EXISTS (SELECT 1 FROM a)
    RETURNING id, event_seq
  ), e AS (
    INSERT INTO task_events (task_id, seq, type, data)
    SELECT t.id, t.event_seq, 'command.approval_decided',
      jsonb_build_object('id', a.id::text, 'command', a.command, 'decision', $4::text, 'by', $3::text)
    FROM t, a
    RETURNING seq, at, type, data
  )
  SELECT a.*, e.seq AS ev_seq, e.at AS ev_at, e.type AS ev_type, e.data AS ev_data FROM a, e`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class SqlCommandApprovalStore implements CommandApprovalStore {
  constructor(readonly sql: SqlClient) {}

  async request(taskId: string, request: CommandApprovalRequest, expiresAt: Date) {
    const res = await this.sql.query<WithEvent>(REQUEST_SQL, [
      randomUUID(),
      taskId,
      request.command,
      request.normalized,
      request.reasons,
      expiresAt.toISOString(),
      expiresAt.toISOString(),
    ]);
    return res.rows[0] ? split(res.rows[0]) : null;
  }

  async get(id: string): Promise<CommandApproval | null> {
    if (!UUID.test(id)) return null;
    const res = await this.sql.query<Row>('SELECT * FROM command_approvals WHERE id = $1', [id]);
    return res.rows[0] ? toApproval(res.rows[0]) : null;
  }

  async open(taskId: string): Promise<CommandApproval[]> {
    const res = await this.sql.query<Row>(
      `SELECT * FROM command_approvals WHERE task_id = $1 AND decided_at IS NULL ORDER BY requested_at, id`,
      [taskId],
    );
    return res.rows.map(toApproval);
  }

  async allowedForTask(taskId: string, normalized: string): Promise<boolean> {
    const res = await this.sql.query(
      `SELECT 1 FROM command_approvals WHERE task_id = $1 AND normalized = $2 AND decision = 'allowed_task' LIMIT 1`,
      [taskId, normalized],
    );
    return res.rows.length > 0;
  }

  async decide(taskId: string, id: string, d: { decision: CommandDecision; by: string }) {
    if (!UUID.test(id)) return null;
    const res = await this.sql.query<WithEvent>(DECIDE_SQL, [taskId, id, d.by, d.decision]);
    return res.rows[0] ? split(res.rows[0]) : null;
  }
}
