import { randomUUID } from 'node:crypto';
import {
  BadInputError,
  type CreateTaskResult,
  type NewTask,
  type NewTaskEvent,
  type Task,
  type TaskEvent,
  type TaskListFilter,
  type TaskPatch,
  type TaskStore,
  type TerminalEventData,
  type TerminalStatus,
} from '../core/index.js';
import type { SqlClient, SqlResult } from '../core/sql-client.js';
import { Batcher } from '../utils/batcher.js';
import { migrate } from './migrate.js';
import { storeWriteError } from './store-write-error.js';
import { REPLACEMENT, toStorableJson } from './to-storable-json.js';

export interface TaskRow {
  id: string;
  source: Task['source'];
  origin: Task['origin'];
  requester: string;
  repo: string | null;
  kind: Task['kind'];
  prompt: string;
  input: Task['input'];
  status: Task['status'];
  idempotency_key: string | null;
  branch: string | null;
  pr_url: string | null;
  preview_url: string | null;
  result_summary: string | null;
  result: Task['result'];
  error: string | null;
  usage: Task['usage'];
  attempts: number;
  created_at: Date | string;
  started_at: Date | string | null;
  finished_at: Date | string | null;
  updated_at: Date | string;
}

export interface EventRow {
  task_id: string;
  seq: number;
  at: Date | string;
  type: TaskEvent['type'];
  data: Record<string, unknown>;
}

const toDate = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));
const toDateOrNull = (v: Date | string | null): Date | null => (v === null ? null : toDate(v));

export function toTask(row: TaskRow): Task {
  return {
    id: row.id,
    source: row.source,
    origin: row.origin ?? {},
    requester: row.requester,
    repo: row.repo,
    kind: row.kind,
    prompt: row.prompt,
    input: row.input ?? {},
    status: row.status,
    idempotencyKey: row.idempotency_key,
    branch: row.branch,
    prUrl: row.pr_url,
    previewUrl: row.preview_url,
    resultSummary: row.result_summary,
    result: row.result,
    error: row.error,
    usage: row.usage ?? {},
    attempts: row.attempts,
    createdAt: toDate(row.created_at),
    startedAt: toDateOrNull(row.started_at),
    finishedAt: toDateOrNull(row.finished_at),
    updatedAt: toDate(row.updated_at),
  };
}

export function toEvent(row: EventRow): TaskEvent {
  // The store only holds events it was given as TaskEvents: the row's type names its payload.
  return {
    taskId: row.task_id,
    seq: row.seq,
    at: toDate(row.at),
    type: row.type,
    data: row.data ?? {},
  } as TaskEvent;
}

/** Maps TaskPatch keys to columns; JSON columns are marked so values are serialized. */
const PATCH_COLUMNS: Record<keyof TaskPatch, { column: string; json?: boolean }> = {
  kind: { column: 'kind' },
  repo: { column: 'repo' },
  origin: { column: 'origin', json: true },
  input: { column: 'input', json: true },
  branch: { column: 'branch' },
  prUrl: { column: 'pr_url' },
  previewUrl: { column: 'preview_url' },
  resultSummary: { column: 'result_summary' },
  result: { column: 'result', json: true },
  error: { column: 'error' },
  usage: { column: 'usage', json: true },
};

/**
 * What a task's patch, its events and its end write is what its commands printed and what its
 * agents said: stored NUL-free (U+FFFD instead, see toStorableJson), so a byte PostgreSQL refuses
 * never loses an event or fails a finished task. New tasks are not rewritten: the API refuses bad
 * text up front and the store fails only that task (see #createMany).
 */
function storable(value: unknown, json: boolean | undefined): unknown {
  if (value === null) return null;
  if (json) return toStorableJson(value);
  return typeof value === 'string' ? value.replaceAll('\u0000', REPLACEMENT) : value;
}

function patchSql(patch: TaskPatch, firstParam: number): { sets: string[]; params: unknown[] } {
  const sets: string[] = [];
  const params: unknown[] = [];
  for (const [key, value] of Object.entries(patch)) {
    const spec = PATCH_COLUMNS[key as keyof TaskPatch];
    if (!spec || value === undefined) continue;
    params.push(storable(value, spec.json));
    sets.push(`${spec.column} = $${firstParam + params.length - 1}`);
  }
  return { sets, params };
}

/** A new task as the insert's parameters: JSON already serialized (which can fail per row). */
interface TaskInsertRow {
  source: string;
  origin: string;
  requester: string;
  repo: string | null;
  kind: string;
  prompt: string;
  input: string;
  idempotencyKey: string | null;
}

function insertRow(input: NewTask): TaskInsertRow {
  return {
    source: input.source,
    origin: JSON.stringify(input.origin ?? {}),
    requester: input.requester,
    repo: input.repo ?? null,
    kind: input.kind,
    prompt: input.prompt,
    input: JSON.stringify(input.input ?? {}),
    idempotencyKey: input.idempotencyKey ?? null,
  };
}

const TERMINAL_SQL = "('succeeded', 'failed', 'cancelled')";

const CREATE_TASKS_SQL = `WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::text[])
      WITH ORDINALITY AS i (id, source, origin, requester, repo, kind, prompt, input, idempotency_key, ord)
  ), t AS (
    INSERT INTO tasks (id, source, origin, requester, repo, kind, prompt, input, idempotency_key, event_seq)
    SELECT id, source, origin, requester, repo, kind, prompt, input, idempotency_key, 1 FROM input ORDER BY ord
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING *
  ), e AS (
    INSERT INTO task_events (task_id, seq, type, data)
    SELECT id, 1, 'task.created', jsonb_build_object('source', source, 'kind', kind, 'requester', requester) FROM t
  )
  SELECT * FROM t`;

/** The TaskStore over any SqlClient: one implementation for PostgreSQL and PGlite. */
export class SqlTaskStore implements TaskStore {
  constructor(readonly sql: SqlClient) {}

  async migrate(): Promise<void> {
    await migrate(this.sql);
  }

  readonly #creates = new Batcher<NewTask, CreateTaskResult>((inputs) => this.#createMany(inputs), {
    maxInFlight: 1,
  });

  /** Idempotent on the key. Concurrent calls share one INSERT (see Batcher). */
  createTask(input: NewTask): Promise<CreateTaskResult> {
    return this.#creates.submit(input);
  }

  /**
   * One bad row (a value PostgreSQL refuses) fails the whole statement, and with it every other
   * request that happened to share the batch. So a batch that fails over its data is retried row
   * by row: the good rows are created and only the bad one fails, with a BadInputError.
   */
  async #createMany(inputs: NewTask[]): Promise<(CreateTaskResult | Error)[]> {
    const results: (CreateTaskResult | Error | undefined)[] = inputs.map(() => undefined);
    const rows: { at: number; row: TaskInsertRow }[] = [];
    for (const [at, input] of inputs.entries()) {
      try {
        rows.push({ at, row: insertRow(input) });
      } catch (err) {
        results[at] = storeWriteError(err, 'the task');
      }
    }
    if (rows.length > 0) {
      let inserted: (CreateTaskResult | Error)[];
      try {
        inserted = await this.#insertTasks(rows.map((r) => r.row));
      } catch (raw) {
        const err = storeWriteError(raw, 'the task');
        // A lost connection fails every row alike; only a data problem is worth splitting.
        if (!(err instanceof BadInputError) || rows.length === 1) inserted = rows.map(() => err);
        else {
          inserted = [];
          for (const { row } of rows) {
            inserted.push(
              await this.#insertTasks([row]).then(
                ([result]) => result ?? new Error('the insert returned no result'),
                (e: unknown) => storeWriteError(e, 'the task'),
              ),
            );
          }
        }
      }
      for (const [i, { at }] of rows.entries()) results[at] = inserted[i];
    }
    return results.map((r) => r ?? new Error('the task was not written'));
  }

  async #insertTasks(rows: TaskInsertRow[]): Promise<(CreateTaskResult | Error)[]> {
    const ids = rows.map(() => randomUUID());
    // One round trip and one commit for the whole batch: insert the tasks and their first events
    // together; a duplicate idempotency key inserts nothing and its task is read back below. The
    // rows travel as arrays, so the statement text is the same for any batch size and PostgreSQL
    // plans it once per connection.
    const res = await this.sql.query<TaskRow>(
      CREATE_TASKS_SQL,
      [
        ids,
        rows.map((r) => r.source),
        rows.map((r) => r.origin),
        rows.map((r) => r.requester),
        rows.map((r) => r.repo),
        rows.map((r) => r.kind),
        rows.map((r) => r.prompt),
        rows.map((r) => r.input),
        rows.map((r) => r.idempotencyKey),
      ],
      { name: 'devbot_create_tasks' },
    );
    const inserted = new Map(res.rows.map((row) => [row.id, toTask(row)]));
    const missingKeys = rows
      .filter((row, i) => !inserted.has(ids[i]!) && row.idempotencyKey)
      .map((row) => row.idempotencyKey as string);
    const existing = new Map<string, Task>();
    if (missingKeys.length > 0) {
      const found = await this.sql.query<TaskRow>(
        'SELECT * FROM tasks WHERE idempotency_key = ANY($1::text[])',
        [missingKeys],
      );
      for (const row of found.rows) existing.set(row.idempotency_key as string, toTask(row));
    }
    return rows.map((row, i) => {
      const task = inserted.get(ids[i]!);
      if (task) return { task, created: true };
      const prior = row.idempotencyKey ? existing.get(row.idempotencyKey) : undefined;
      if (prior) return { task: prior, created: false };
      return new Error('task insert returned nothing and no task has that idempotency key');
    });
  }

  async getTask(id: string): Promise<Task | null> {
    if (!isUuid(id)) return null;
    const res = await this.sql.query<TaskRow>('SELECT * FROM tasks WHERE id = $1', [id]);
    return res.rows[0] ? toTask(res.rows[0]) : null;
  }

  async listTasks(filter: TaskListFilter = {}): Promise<Task[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.status) {
      params.push(filter.status);
      where.push(`status = $${params.length}`);
    }
    if (filter.source) {
      params.push(filter.source);
      where.push(`source = $${params.length}`);
    }
    if (filter.requester) {
      params.push(filter.requester);
      where.push(`requester = $${params.length}`);
    }
    if (filter.repo) {
      params.push(filter.repo);
      where.push(`repo = $${params.length}`);
    }
    if (filter.before) {
      // The cursor task's own timestamp, read in SQL: a JS Date would drop its microseconds.
      params.push(isUuid(filter.before) ? filter.before : '00000000-0000-0000-0000-000000000000');
      const at = `(SELECT created_at FROM tasks WHERE id = $${params.length})`;
      where.push(`(created_at, id) < (${at}, $${params.length}::uuid)`);
    }
    if (filter.chatId !== undefined) {
      // A chat's tasks, found by the index on (origin->>'chatId') of telegram tasks.
      params.push(String(filter.chatId));
      where.push(`source = 'telegram' AND origin->>'chatId' = $${params.length}`);
    }
    if (filter.githubIssue) {
      params.push(filter.githubIssue.repo, String(filter.githubIssue.issueNumber));
      where.push(
        `source = 'github' AND repo = $${params.length - 1} AND origin->>'issueNumber' = $${params.length}`,
      );
    }
    if (filter.unfinished) where.push(`status IN ('queued', 'running', 'waiting')`);
    params.push(Math.min(Math.max(filter.limit ?? 50, 1), 500));
    const res = await this.sql.query<TaskRow>(
      `SELECT * FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return res.rows.map(toTask);
  }

  async listUnfinished(): Promise<Task[]> {
    const res = await this.sql.query<TaskRow>(
      "SELECT * FROM tasks WHERE status IN ('queued', 'running') ORDER BY created_at",
    );
    return res.rows.map(toTask);
  }

  async patchTask(id: string, patch: TaskPatch): Promise<Task | null> {
    const changes = Object.entries(patch).some(
      ([k, v]) => Object.hasOwn(PATCH_COLUMNS, k) && v !== undefined,
    );
    if (!changes) return this.getTask(id);
    const res = await this.#write<TaskRow>('the task change', () => {
      const { sets, params } = patchSql(patch, 2);
      return [
        `UPDATE tasks SET ${sets.join(', ')}, updated_at = now() WHERE id = $1 RETURNING *`,
        [id, ...params],
      ];
    });
    return res.rows[0] ? toTask(res.rows[0]) : null;
  }

  /**
   * A write whose statement and parameters are built inside (serializing can fail too): a value
   * the database refuses comes out as a BadInputError (see storeWriteError), so a task is never
   * retried over something it printed.
   */
  async #write<T>(what: string, build: () => [string, unknown[]]): Promise<SqlResult<T>> {
    try {
      const [text, params] = build();
      return await this.sql.query<T>(text, params);
    } catch (err) {
      throw storeWriteError(err, what);
    }
  }

  async markRunning(id: string): Promise<Task | null> {
    const res = await this.sql.query<TaskRow>(
      `UPDATE tasks SET status = 'running', attempts = attempts + 1, started_at = COALESCE(started_at, now()),
         updated_at = now()
       WHERE id = $1 AND status IN ('queued', 'running') RETURNING *`,
      [id],
    );
    return res.rows[0] ? toTask(res.rows[0]) : null;
  }

  async markQueued(id: string): Promise<Task | null> {
    const res = await this.sql.query<TaskRow>(
      `UPDATE tasks SET status = 'queued', updated_at = now()
       WHERE id = $1 AND status IN ('queued', 'running') RETURNING *`,
      [id],
    );
    return res.rows[0] ? toTask(res.rows[0]) : null;
  }

  async finishTask<S extends TerminalStatus>(
    id: string,
    status: S,
    patch: TaskPatch,
    eventData: TerminalEventData[S],
  ): Promise<{ task: Task; event: TaskEvent } | null> {
    // The status change and the terminal event commit together, and only once: a task that is
    // already terminal is left alone, so its end is reported exactly once.
    const res = await this.#write<
      TaskRow & { ev_seq: number; ev_at: Date | string; ev_data: EventRow['data'] }
    >("the task's end", () => {
      const { sets, params } = patchSql(patch, 4);
      return [
        `WITH t AS (
             UPDATE tasks SET status = $2, finished_at = now(), updated_at = now(), event_seq = event_seq + 1
               ${sets.length ? `, ${sets.join(', ')}` : ''}
             WHERE id = $1 AND status NOT IN ${TERMINAL_SQL}
             RETURNING *
           ), e AS (
             INSERT INTO task_events (task_id, seq, type, data)
             SELECT id, event_seq, 'task.' || status, $3 FROM t
             RETURNING seq, at, data
           )
           SELECT t.*, e.seq AS ev_seq, e.at AS ev_at, e.data AS ev_data FROM t, e`,
        [id, status, toStorableJson(eventData), ...params],
      ];
    });
    const row = res.rows[0];
    if (!row) return null;
    const task = toTask(row);
    return {
      task,
      event: {
        taskId: id,
        seq: row.ev_seq,
        at: toDate(row.ev_at),
        type: `task.${status}`,
        // As stored (and as the stream and the API will show it).
        data: row.ev_data,
      } as TaskEvent,
    };
  }

  async appendEvent(taskId: string, event: NewTaskEvent, patch?: TaskPatch): Promise<TaskEvent> {
    // The task row's counter hands out seq numbers: the row lock serializes writers, so seqs
    // have no gaps and no duplicates even with several writers. A patch rides on the same UPDATE.
    const res = await this.#write<EventRow>(`a ${event.type} event`, () => {
      const { sets, params } = patch ? patchSql(patch, 4) : { sets: [], params: [] };
      return [
        `WITH s AS (
           UPDATE tasks SET event_seq = event_seq + 1, updated_at = now()${sets.map((x) => `, ${x}`).join('')}
           WHERE id = $1 RETURNING event_seq
         )
         INSERT INTO task_events (task_id, seq, type, data)
         SELECT $1, event_seq, $2, $3 FROM s
         RETURNING *`,
        [taskId, event.type, toStorableJson(event.data ?? {}), ...params],
      ];
    });
    const row = res.rows[0];
    if (!row) throw new Error(`cannot append an event: task ${taskId} does not exist`);
    return toEvent(row);
  }

  async listEvents(taskId: string, afterSeq = 0, types?: readonly TaskEvent['type'][]): Promise<TaskEvent[]> {
    if (!isUuid(taskId)) return [];
    const res = types
      ? await this.sql.query<EventRow>(
          'SELECT * FROM task_events WHERE task_id = $1 AND seq > $2 AND type = ANY($3::text[]) ORDER BY seq',
          [taskId, afterSeq, [...types]],
        )
      : await this.sql.query<EventRow>(
          'SELECT * FROM task_events WHERE task_id = $1 AND seq > $2 ORDER BY seq',
          [taskId, afterSeq],
        );
    return res.rows.map(toEvent);
  }

  async ping(): Promise<void> {
    await this.sql.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.sql.close();
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
