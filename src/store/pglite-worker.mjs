// @ts-check
/**
 * The embedded database's own thread (src/store/pglite-thread-client.ts starts it). PGlite is a
 * PostgreSQL compiled to WASM: every query runs synchronously inside it, so on the main thread
 * each one stopped HTTP, Redis and the bot for its whole duration. Here it owns the data
 * directory and answers the SqlClient's messages; the main thread keeps the directory lock and
 * the file modes.
 *
 * Plain JavaScript on purpose: it is the same file under tsx (the source checkout), vitest and the
 * built package (scripts/build.mjs copies it into dist/), with no TypeScript loader to start in a
 * second thread. It imports PGlite and nothing of devbot's.
 *
 * Messages in (arrays of):  {op: 'query', id, sql, params, tx?, low?} | {op: 'exec', id, sql}
 *               | {op: 'begin', id} | {op: 'end', id, tx, commit} | {op: 'close', id}
 * Messages out: {op: 'ready'} | {op: 'failed', error} once, then arrays of
 *               {id, ok: true, value} | {id, ok: false, error}
 *
 * A transaction is pinned: `begin` enters PGlite's `transaction()` and answers once inside it; the
 * queries that name its id (`tx`) run on it; `end` commits (or rolls back) and answers once it is
 * over. Queries without `tx` queue behind the transaction inside PGlite, as they did on the main
 * thread.
 */

import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, parse, protocol } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';

const port = parentPort;
if (!port) throw new Error('pglite-worker.mjs runs as a worker thread');

/** @type {{ dataDir?: string, pgliteWasmModule?: WebAssembly.Module }} */
const options = workerData ?? {};

/** The caller asked for a rollback: not an error to report. */
const ROLLBACK = Symbol('rollback');

/**
 * An error as plain data: structured clone keeps only message and name of an Error, and the store
 * reads PostgreSQL's fields (code 23505, detail, constraint...).
 * @param {unknown} err
 */
function serializeError(err) {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), fields: {} };
  /** @type {Record<string, string | number | boolean>} */
  const fields = {};
  for (const [key, value] of Object.entries(err)) {
    if (key === 'message' || key === 'name' || key === 'stack') continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      fields[key] = value;
  }
  return { name: err.name, message: err.message, fields };
}

/**
 * Replies go out in batches: everything answered in one turn of this thread's event loop is one
 * message. Each message wakes the other thread; on a busy machine a wake-up costs more than the
 * query, so fewer of them is most of the throughput.
 * @type {unknown[]}
 */
let outbox = [];
let flushScheduled = false;

function flush() {
  flushScheduled = false;
  if (outbox.length === 0) return;
  const batch = outbox;
  outbox = [];
  port?.postMessage(batch);
}

/** @param {unknown} reply */
function send(reply) {
  outbox.push(reply);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

/**
 * @param {number} id
 * @param {unknown} value
 */
function ok(id, value) {
  send({ id, ok: true, value });
}

/**
 * @param {number} id
 * @param {unknown} err
 */
function fail(id, err) {
  send({ id, ok: false, error: serializeError(err) });
}

/** @param {{ rows: unknown[], affectedRows?: number }} res */
function result(res) {
  return { rows: res.rows, rowCount: Math.max(res.affectedRows ?? 0, res.rows.length) };
}

let db;
try {
  db = await PGlite.create({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.pgliteWasmModule ? { pgliteWasmModule: options.pgliteWasmModule } : {}),
    extensions: { vector },
  });
} catch (err) {
  port.postMessage({ op: 'failed', error: serializeError(err) });
  // The main thread ends this thread once it has read why (exiting here could lose the message).
  await new Promise(() => {});
}
const pglite = db;

/**
 * Statements as PGlite's `query` runs them, in one exchange with the engine instead of six, and
 * prepared once per text instead of on every call.
 *
 * PGlite's `query` sends Parse, Describe, Bind, Describe, Execute and Sync one by one (six trips
 * into the WASM engine, each with its own parse of the reply and its own promise), and parses and
 * plans the statement again on every call. devbot runs the same few statements over and over
 * (a task's insert, read, start, event and end), so here each text is described once (the
 * parameter types pick the serializers, as PGlite does), prepared under a name of its own, and
 * each call is a single message: Bind, Describe, Execute, Sync (with the Parse first the first
 * time). PostgreSQL re-plans a prepared statement by itself when the schema changes; if it
 * cannot (a `SELECT *` whose columns changed, or the statement is gone), the name is dropped and
 * the call runs again unprepared (nothing of it ran: Bind failed). Statements of a transaction run
 * unprepared, still in one exchange: an error there aborts the transaction, so there is no second
 * try.
 *
 * Values and results are what PGlite's `query` gives: its serializers and parsers, the same
 * `rows`, `affectedRows` and `fields`; errors are PGlite's (PostgreSQL's fields, `query`, `params`).
 */
const { serialize } = protocol;
/** Prepared statements kept, the least recently used closed beyond this. */
const MAX_PREPARED = 200;
/** Longer texts (a bulk insert built for its row count) run unprepared: they are rarely the same twice. */
const MAX_PREPARED_TEXT = 8192;
/** @type {Map<string, { name: string, oids: number[] }>} in use order, oldest first */
const prepared = new Map();
/** @type {Map<string, number[]>} parameter types of statements run unprepared */
const unpreparedTypes = new Map();
/** @type {string[]} names to close with the next statement (evicted, or no longer valid) */
let toClose = [];
let nextStatement = 1;
/** SQLSTATEs after which a prepared statement is not used again: plan's result changed, statement gone. */
const STALE_STATEMENT = new Set(['0A000', '26000']);

// PGlite's own serializers and parsers (by type OID): what its `query` uses.
const pgliteInternals =
  /** @type {{ serializers: Record<number, (v: unknown) => string>, parsers: Parameters<typeof parse.parseResults>[1] }} */ (
    /** @type {unknown} */ (pglite)
  );

/**
 * @param {Uint8Array[]} parts
 */
function concat(parts) {
  let length = 0;
  for (const part of parts) length += part.length;
  const message = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    message.set(part, at);
    at += part.length;
  }
  return message;
}

/**
 * @param {unknown[]} params
 * @param {number[]} oids
 */
function serializeParams(params, oids) {
  return params.map((param, i) => {
    if (param === null || param === undefined) return null;
    const oid = oids[i];
    const serializer = oid === undefined ? undefined : pgliteInternals.serializers[oid];
    return serializer ? serializer(param) : String(param);
  });
}

/**
 * Sends one message to the engine and reads its reply: the result, or PGlite's error for it.
 * @param {Uint8Array} message
 * @param {boolean} inTransaction
 * @param {string} sql
 * @param {unknown[]} params
 */
async function exchange(message, inTransaction, sql, params) {
  const messages = await pglite.execProtocolStream(message, {
    syncToFs: !inTransaction,
    throwOnError: false,
  });
  let parsed = false;
  for (const m of messages) {
    if (m.name === 'parseComplete') parsed = true;
    else if (m.name === 'error') {
      const err = /** @type {Error & Record<string, unknown>} */ (/** @type {unknown} */ (m));
      err['query'] = sql;
      err['params'] = params;
      err['queryOptions'] = undefined;
      return { parsed, error: err, result: undefined };
    }
  }
  return { parsed, error: undefined, result: parse.parseResults(messages, pgliteInternals.parsers)[0] };
}

/**
 * The parameter types of a statement: PGlite's describe (it throws PGlite's error for a bad one).
 * @param {string} sql
 */
async function parameterTypes(sql) {
  const described = await pglite.describeQuery(sql);
  return described.queryParams.map((p) => p.dataTypeID);
}

/**
 * @param {string} sql
 * @param {unknown[]} params
 * @param {boolean} inTransaction
 */
async function runUnprepared(sql, params, inTransaction) {
  let oids = unpreparedTypes.get(sql);
  if (!oids) {
    oids = await parameterTypes(sql);
    if (sql.length <= MAX_PREPARED_TEXT) unpreparedTypes.set(sql, oids);
    if (unpreparedTypes.size > MAX_PREPARED) {
      const oldest = unpreparedTypes.keys().next().value;
      if (oldest !== undefined) unpreparedTypes.delete(oldest);
    }
  }
  const parts = [
    ...closing(),
    serialize.parse({ text: sql }),
    serialize.bind({ values: /** @type {string[]} */ (serializeParams(params, oids)) }),
    serialize.describe({ type: 'P' }),
    serialize.execute({}),
    serialize.sync(),
  ];
  const { error, result } = await exchange(concat(parts), inTransaction, sql, params);
  if (error) throw error;
  return result;
}

/** Close messages for the names waiting to be closed (closing a missing one is no error). */
function closing() {
  if (toClose.length === 0) return [];
  const parts = toClose.map((name) => serialize.close({ type: 'S', name }));
  toClose = [];
  return parts;
}

/**
 * One statement, prepared once per text. Runs under PGlite's query lock (and its transaction lock
 * when not in a transaction), as its `query` does.
 * @param {string} sql
 * @param {unknown[] | undefined} given
 * @param {boolean} inTransaction
 */
async function runStatement(sql, given, inTransaction) {
  await pglite._checkReady();
  const params = given ?? [];
  const run = () =>
    pglite._runExclusiveQuery(async () => {
      // Inside a transaction an error aborts it: no second try there, so nothing prepared either.
      if (inTransaction || sql.length > MAX_PREPARED_TEXT) return runUnprepared(sql, params, inTransaction);
      let statement = prepared.get(sql);
      const fresh = statement === undefined;
      const parts = [...closing()];
      if (statement) {
        // Most recently used last.
        prepared.delete(sql);
        prepared.set(sql, statement);
      } else {
        statement = { name: `devbot_${nextStatement++}`, oids: await parameterTypes(sql) };
        parts.push(serialize.parse({ text: sql, name: statement.name }));
      }
      parts.push(
        serialize.bind({
          statement: statement.name,
          values: /** @type {string[]} */ (serializeParams(params, statement.oids)),
        }),
        serialize.describe({ type: 'P' }),
        serialize.execute({}),
        serialize.sync(),
      );
      const { parsed, error, result } = await exchange(concat(parts), inTransaction, sql, params);
      if (fresh && parsed) {
        prepared.set(sql, statement);
        if (prepared.size > MAX_PREPARED) {
          const [oldest, evicted] = prepared.entries().next().value ?? [];
          if (oldest !== undefined && evicted) {
            prepared.delete(oldest);
            toClose.push(evicted.name);
          }
        }
      }
      if (!error) return result;
      const code = /** @type {{ code?: unknown }} */ (error).code;
      if (!fresh && typeof code === 'string' && STALE_STATEMENT.has(code)) {
        // The prepared statement cannot serve any more (nothing of it ran: Bind failed).
        prepared.delete(sql);
        toClose.push(statement.name);
        return runUnprepared(sql, params, inTransaction);
      }
      throw error;
    });
  return inTransaction ? run() : pglite._runExclusiveTransaction(run);
}

/** @type {Map<number, { tx: import('@electric-sql/pglite').Transaction, end: (how: { id: number, commit: boolean }) => void }>} */
const transactions = new Map();

/**
 * Enters a transaction; resolves once it holds PGlite (or failed to begin).
 * @param {number} id
 * @returns {Promise<void>}
 */
function begin(id) {
  /** @type {() => void} */
  let started = () => {};
  const holding = new Promise((resolve) => {
    started = () => resolve(undefined);
  });
  /** @type {(how: { id: number, commit: boolean }) => void} */
  let end = () => {};
  /** @type {Promise<{ id: number, commit: boolean }>} */
  const ended = new Promise((resolve) => {
    end = resolve;
  });
  let entered = false;
  /** @type {number | undefined} */
  let endId;
  pglite
    .transaction(async (tx) => {
      entered = true;
      transactions.set(id, { tx, end });
      ok(id, null);
      started();
      const how = await ended;
      endId = how.id;
      if (!how.commit) throw ROLLBACK;
    })
    .then(
      () => endId !== undefined && ok(endId, null),
      (err) => {
        started();
        if (!entered) fail(id, err);
        else if (endId !== undefined) {
          if (err === ROLLBACK) ok(endId, null);
          else fail(endId, err);
        }
      },
    )
    .finally(() => transactions.delete(id));
  return holding;
}

/**
 * The queue in front of PGlite: one statement at a time, as PGlite runs them anyway, but those
 * marked `low` (memory searches) only when nothing else waits, so a task's write waits for at most
 * the one search already running, never for a queue of them. Between two statements the thread
 * turns its event loop once: replies go out as they are ready, and requests that arrived meanwhile
 * get their place in the queue.
 * @type {(() => Promise<void>)[]}
 */
const urgent = [];
/** @type {(() => Promise<void>)[]} */
const later = [];
let pumping = false;

/**
 * @param {() => Promise<void>} job
 * @param {boolean} low
 */
function enqueue(job, low) {
  (low ? later : urgent).push(job);
  if (!pumping) void pump();
}

async function pump() {
  pumping = true;
  try {
    for (;;) {
      const job = urgent.shift() ?? later.shift();
      if (!job) return;
      await job();
      if (urgent.length > 0 || later.length > 0) await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    pumping = false;
  }
}

/**
 * @param {number} id
 * @param {() => Promise<void>} work
 */
function guarded(id, work) {
  return async () => {
    try {
      await work();
    } catch (err) {
      fail(id, err);
    }
  };
}

/**
 * @param {{ op: string, id: number, sql?: string, params?: unknown[], tx?: number, commit?: boolean, low?: boolean }} msg
 */
function handle(msg) {
  const { id } = msg;
  switch (msg.op) {
    case 'query':
      if (msg.tx === undefined) {
        enqueue(
          guarded(id, async () => ok(id, result(await runStatement(msg.sql ?? '', msg.params, false)))),
          msg.low === true,
        );
        return;
      }
      // A statement of an open transaction: the transaction holds PGlite, it runs now.
      void guarded(id, async () => {
        const open = msg.tx === undefined ? undefined : transactions.get(msg.tx);
        if (!open) throw new Error('the transaction is already over');
        if (open.tx.closed) throw new Error('Transaction is closed');
        ok(id, result(await runStatement(msg.sql ?? '', msg.params, true)));
      })();
      return;
    case 'exec':
      enqueue(
        guarded(id, async () => {
          await pglite.exec(msg.sql ?? '');
          ok(id, null);
        }),
        false,
      );
      return;
    case 'begin':
      // The queue moves on once the transaction holds PGlite; what follows waits inside PGlite.
      enqueue(() => begin(id), false);
      return;
    case 'end': {
      const open = msg.tx === undefined ? undefined : transactions.get(msg.tx);
      if (!open) fail(id, new Error('the transaction is already over'));
      else open.end({ id, commit: msg.commit === true });
      return;
    }
    case 'close':
      enqueue(
        guarded(id, async () => {
          await pglite.close();
          ok(id, null);
        }),
        false,
      );
      return;
    default:
      fail(id, new Error(`unknown operation ${msg.op}`));
  }
}

// Requests come in batches too (an array: everything the main thread asked in one turn).
port.on('message', (batch) => {
  for (const msg of batch) handle(msg);
});
port.postMessage({ op: 'ready' });
