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
 * Messages in (arrays of):  {op: 'query', id, sql, params, tx?} | {op: 'exec', id, sql}
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
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';

const port = parentPort;
if (!port) throw new Error('pglite-worker.mjs runs as a worker thread');

/** @type {{ dataDir?: string }} */
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
    extensions: { vector },
  });
} catch (err) {
  port.postMessage({ op: 'failed', error: serializeError(err) });
  process.exit(1);
}
const pglite = db;

/** @type {Map<number, { tx: import('@electric-sql/pglite').Transaction, end: (how: { id: number, commit: boolean }) => void }>} */
const transactions = new Map();

/** @param {number} id */
function begin(id) {
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
      const how = await ended;
      endId = how.id;
      if (!how.commit) throw ROLLBACK;
    })
    .then(
      () => endId !== undefined && ok(endId, null),
      (err) => {
        if (!entered) fail(id, err);
        else if (endId !== undefined) {
          if (err === ROLLBACK) ok(endId, null);
          else fail(endId, err);
        }
      },
    )
    .finally(() => transactions.delete(id));
}

/**
 * @param {{ op: string, id: number, sql?: string, params?: unknown[], tx?: number, commit?: boolean }} msg
 */
async function handle(msg) {
  const { id } = msg;
  try {
    switch (msg.op) {
      case 'query': {
        if (msg.tx === undefined) {
          ok(id, result(await pglite.query(msg.sql ?? '', msg.params)));
          return;
        }
        const open = transactions.get(msg.tx);
        if (!open) throw new Error('the transaction is already over');
        ok(id, result(await open.tx.query(msg.sql ?? '', msg.params)));
        return;
      }
      case 'exec':
        await pglite.exec(msg.sql ?? '');
        ok(id, null);
        return;
      case 'begin':
        begin(id);
        return;
      case 'end': {
        const open = msg.tx === undefined ? undefined : transactions.get(msg.tx);
        if (!open) throw new Error('the transaction is already over');
        open.end({ id, commit: msg.commit === true });
        return;
      }
      case 'close':
        await pglite.close();
        ok(id, null);
        return;
      default:
        throw new Error(`unknown operation ${msg.op}`);
    }
  } catch (err) {
    fail(id, err);
  }
}

// Requests come in batches too (an array: everything the main thread asked in one turn).
port.on('message', (batch) => {
  for (const msg of batch) void handle(msg);
});
port.postMessage({ op: 'ready' });
