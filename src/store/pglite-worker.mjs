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
import { PGlite } from '@electric-sql/pglite';
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
          guarded(id, async () => ok(id, result(await pglite.query(msg.sql ?? '', msg.params)))),
          msg.low === true,
        );
        return;
      }
      // A statement of an open transaction: the transaction holds PGlite, it runs now.
      void guarded(id, async () => {
        const open = msg.tx === undefined ? undefined : transactions.get(msg.tx);
        if (!open) throw new Error('the transaction is already over');
        ok(id, result(await open.tx.query(msg.sql ?? '', msg.params)));
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
