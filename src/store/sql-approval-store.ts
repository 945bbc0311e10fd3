/**
 * The ApprovalStore over any SqlClient: a waiting task's request in `task_approvals`, and the
 * status changes (running -> waiting -> queued) written with their events in one statement each,
 * so a decision happens exactly once however many people press at the same moment.
 */
import type { ApprovalStore, PendingApproval, TaskInput, TaskPlan } from '../core/index.js';
import type { SqlClient } from '../core/sql-client.js';
import { type EventRow, type TaskRow, toEvent, toTask } from './sql-task-store.js';
import { toStorableJson } from './to-storable-json.js';

interface ApprovalRow {
  task_id: string;
  kind: 'plan';
  plan: TaskPlan;
  round: number;
  requested_at: Date | string;
  expires_at: Date | string;
}

type WithEvent = TaskRow & {
  ev_seq: number;
  ev_at: Date | string;
  ev_type: string;
  ev_data: EventRow['data'];
};

const toDate = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));

function toPending(row: ApprovalRow): PendingApproval {
  return {
    taskId: row.task_id,
    kind: row.kind,
    plan: row.plan,
    round: row.round,
    requestedAt: toDate(row.requested_at),
    expiresAt: toDate(row.expires_at),
  };
}

function split(row: WithEvent) {
  return {
    task: toTask(row),
    event: toEvent({
      task_id: row.id,
      seq: row.ev_seq,
      at: row.ev_at,
      type: row.ev_type,
      data: row.ev_data,
    } as EventRow),
  };
}

const MARK_WAITING_SQL = `WITH t AS (
    UPDATE tasks SET status = 'waiting', updated_at = now(), event_seq = event_seq + 1
    WHERE id = $1 AND status = 'running'
    RETURNING *
  ), a AS (
    INSERT INTO task_approvals (task_id, kind, plan, round, requested_at, expires_at)
    SELECT id, 'plan', $2::jsonb, 1, now(), $3::timestamptz FROM t
    ON CONFLICT (task_id) DO UPDATE SET plan = EXCLUDED.plan, round = task_approvals.round + 1,
      requested_at = now(), expires_at = EXCLUDED.expires_at, decided_at = NULL, decided_by = NULL,
      decision = NULL
    RETURNING *
  ), e AS (
    INSERT INTO task_events (task_id, seq, type, data)
    SELECT t.id, t.event_seq, 'task.waiting', jsonb_build_object('reason', 'plan', 'plan', $2::jsonb,
      'round', a.round, 'expiresAt', $4::text)
    FROM t, a
    RETURNING seq, at, type, data
  )
  SELECT t.*, e.seq AS ev_seq, e.at AS ev_at, e.type AS ev_type, e.data AS ev_data,
    a.kind AS ap_kind, a.round AS ap_round, a.requested_at AS ap_requested_at, a.expires_at AS ap_expires_at
  FROM t, a, e`;

const DECIDE_SQL = `WITH a AS (
    UPDATE task_approvals SET decided_at = now(), decided_by = $2, decision = $3
    WHERE task_id = $1 AND decided_at IS NULL AND ($4::integer IS NULL OR round = $4::integer)
      AND EXISTS (SELECT 1 FROM tasks WHERE id = $1 AND status = 'waiting')
    RETURNING round
  ), t AS (
    -- A continuation starts its own count of attempts: approve/revise rounds are not failures, and a
    -- transient failure after them is still retried DEVBOT_TASK_ATTEMPTS times.
    UPDATE tasks SET status = 'queued', input = $5::jsonb, attempts = 0, updated_at = now(),
      event_seq = event_seq + 1
    WHERE id = $1 AND status = 'waiting' AND EXISTS (SELECT 1 FROM a)
    RETURNING *
  ), e AS (
    INSERT INTO task_events (task_id, seq, type, data)
    SELECT t.id, t.event_seq, 'approval',
      jsonb_build_object('decision', $3::text, 'by', $2::text, 'round', a.round) || $6::jsonb
    FROM t, a
    RETURNING seq, at, type, data
  )
  SELECT t.*, e.seq AS ev_seq, e.at AS ev_at, e.type AS ev_type, e.data AS ev_data FROM t, e`;

export class SqlApprovalStore implements ApprovalStore {
  constructor(readonly sql: SqlClient) {}

  async markWaiting(taskId: string, plan: TaskPlan, expiresAt: Date) {
    const res = await this.sql.query<
      WithEvent & {
        ap_kind: 'plan';
        ap_round: number;
        ap_requested_at: Date | string;
        ap_expires_at: Date | string;
      }
    >(MARK_WAITING_SQL, [taskId, toStorableJson(plan), expiresAt.toISOString(), expiresAt.toISOString()]);
    const row = res.rows[0];
    if (!row) return null;
    return {
      ...split(row),
      pending: toPending({
        task_id: taskId,
        kind: row.ap_kind,
        plan,
        round: row.ap_round,
        requested_at: row.ap_requested_at,
        expires_at: row.ap_expires_at,
      }),
    };
  }

  async pending(taskId: string): Promise<PendingApproval | null> {
    const res = await this.sql.query<ApprovalRow>(
      `SELECT a.* FROM task_approvals a JOIN tasks t ON t.id = a.task_id
       WHERE a.task_id = $1 AND a.decided_at IS NULL AND t.status = 'waiting'`,
      [taskId],
    );
    return res.rows[0] ? toPending(res.rows[0]) : null;
  }

  async decide(
    taskId: string,
    d: { by: string; decision: 'approved' | 'revised'; text?: string; round?: number },
    input: TaskInput,
  ) {
    const res = await this.sql.query<WithEvent>(DECIDE_SQL, [
      taskId,
      d.by,
      d.decision,
      d.round ?? null,
      toStorableJson(input),
      toStorableJson(d.text !== undefined ? { text: d.text } : {}),
    ]);
    return res.rows[0] ? split(res.rows[0]) : null;
  }

  async expired(now: Date): Promise<string[]> {
    const res = await this.sql.query<{ task_id: string }>(
      `SELECT a.task_id FROM task_approvals a JOIN tasks t ON t.id = a.task_id
       WHERE a.decided_at IS NULL AND a.expires_at <= $1 AND t.status = 'waiting'
       ORDER BY a.expires_at LIMIT 100`,
      [now.toISOString()],
    );
    return res.rows.map((r) => r.task_id);
  }

  async closeExpired(taskId: string, now: Date): Promise<boolean> {
    const res = await this.sql.query(
      `UPDATE task_approvals SET decided_at = now(), decision = 'expired'
       WHERE task_id = $1 AND decided_at IS NULL AND expires_at <= $2
         AND EXISTS (SELECT 1 FROM tasks WHERE id = $1 AND status = 'waiting')
       RETURNING task_id`,
      [taskId, now.toISOString()],
    );
    return res.rows.length > 0;
  }
}
