import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { UnavailableError } from '../core/errors.js';
import type { QueryOptions, SqlClient, SqlResult } from '../core/sql-client.js';

/** What the worker thread (src/store/pglite-worker.mjs) is asked. */
type Request =
  | { op: 'query'; sql: string; params?: readonly unknown[] | undefined; tx?: number; low?: boolean }
  | { op: 'exec'; sql: string }
  | { op: 'begin' }
  | { op: 'end'; tx: number; commit: boolean }
  | { op: 'close' };

interface SerializedError {
  name: string;
  message: string;
  fields: Record<string, string | number | boolean>;
}

type Startup = { op: 'ready' } | { op: 'failed'; error: SerializedError };
type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/** How long close() waits for PGlite to checkpoint before it ends the thread anyway. */
const CLOSE_TIMEOUT_MS = 30_000;

/**
 * An error from the thread as the caller would have had it on the main thread: same class for
 * the ones callers test (RangeError), same message, and PostgreSQL's fields (code, detail,
 * constraint...) so `err.code === '23505'` still holds.
 */
function reviveError(e: SerializedError): Error {
  const err = e.name === 'RangeError' ? new RangeError(e.message) : new Error(e.message);
  if (e.name !== 'RangeError' && e.name !== 'Error') err.name = e.name;
  return Object.assign(err, e.fields);
}

/**
 * PGlite in a worker thread of its own, served to the main thread over messages. PGlite's WASM
 * engine runs each query synchronously; on the main thread every store call of the gateway, the
 * worker and the reporters (and a memory search) stopped the event loop while it ran. Here the
 * event loop keeps serving HTTP, Redis and Telegram while the database works.
 *
 * Values cross as structured clones: Date, bigint, Uint8Array (PGlite's bytea), arrays and plain
 * objects arrive as they were (a Buffer parameter arrives as the Uint8Array it is). Errors keep
 * their message and PostgreSQL fields. A thread that dies rejects every call in flight, and every
 * later one, with an UnavailableError.
 *
 * The thread is referenced only while a call is in flight: an idle client does not keep the
 * process alive, a pending query does.
 */
/** A compiled WebAssembly.Module (devbot's TypeScript lib has WebAssembly's types, not its value). */
type WasmModule = object;
const wasmApi = (
  globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> } }
).WebAssembly;
let compiled: Promise<WasmModule | undefined> | undefined;

/**
 * PGlite's engine compiled once per process and handed to each thread (a WebAssembly.Module
 * crosses to a worker without recompiling): a thread started later, by a CLI command or a test
 * reopening a directory, skips the compile. Undefined if the file is not where the package keeps it:
 * the thread then loads PGlite's own.
 */
function pgliteWasm(): Promise<WasmModule | undefined> {
  compiled ??= (async () => {
    try {
      const dist = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
      return await wasmApi.compile(await readFile(join(dist, 'pglite.wasm')));
    } catch {
      return undefined;
    }
  })();
  return compiled;
}

export async function startPgliteThread(
  options: { dataDir?: string } = {},
): Promise<SqlClient & { readonly thread: Worker }> {
  const pgliteWasmModule = await pgliteWasm();
  const worker = new Worker(new URL('./pglite-worker.mjs', import.meta.url), {
    workerData: {
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      ...(pgliteWasmModule ? { pgliteWasmModule } : {}),
    },
    // Its output is PGlite's own (nothing by default); stdio stays the process's.
  });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let dead: Error | undefined;
  let closing = false;

  const die = (err: Error) => {
    if (dead) return;
    dead = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    worker.unref();
  };

  await new Promise<void>((resolve, reject) => {
    const onMessage = (msg: Startup) => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (msg.op === 'ready') resolve();
      else {
        void worker.terminate();
        reject(reviveError(msg.error));
      }
    };
    const onError = (err: Error) => {
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      void worker.terminate();
      reject(err);
    };
    const onExit = (code: number) => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      reject(new Error(`the embedded database's thread exited (code ${code}) before it opened`));
    };
    worker.on('message', onMessage);
    worker.once('error', onError);
    worker.once('exit', onExit);
  });

  worker.on('message', (replies: Reply[]) => {
    for (const msg of replies) {
      const p = pending.get(msg.id);
      if (!p) continue;
      pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(reviveError(msg.error));
    }
    if (pending.size === 0) worker.unref();
  });
  worker.on('error', (err) => {
    die(
      new UnavailableError(`the embedded database's thread failed: ${err.message}`, {
        cause: err,
      }),
    );
  });
  worker.on('exit', (code) => {
    die(
      new UnavailableError(
        closing
          ? 'the embedded database is closed'
          : `the embedded database's thread stopped (exit code ${code}); restart devbot`,
      ),
    );
  });
  worker.unref();

  // Requests go out in batches: everything asked in one turn of the event loop is one message (see
  // the worker: each message is a wake-up of the other thread, dearer than a query when busy).
  let outbox: (Request & { id: number })[] = [];
  let flushScheduled = false;
  const flush = () => {
    flushScheduled = false;
    const batch = outbox;
    outbox = [];
    if (batch.length === 0 || dead) return;
    try {
      worker.postMessage(batch);
    } catch {
      // A parameter structured clone cannot copy (a function, a symbol): the caller's mistake,
      // and only that caller's. The others go one by one.
      for (const message of batch) {
        try {
          worker.postMessage([message]);
        } catch (err) {
          const p = pending.get(message.id);
          pending.delete(message.id);
          p?.reject(
            new TypeError(`cannot send this query to the embedded database: ${(err as Error).message}`),
          );
        }
      }
      if (pending.size === 0) worker.unref();
    }
  };

  function request(message: Request): { id: number; reply: Promise<unknown> } {
    const id = nextId++;
    const reply = new Promise<unknown>((resolve, reject) => {
      if (dead) {
        reject(dead);
        return;
      }
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve, reject });
      outbox.push({ ...message, id });
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flush);
      }
    });
    return { id, reply };
  }
  const call = (message: Request) => request(message).reply;
  const query = <T>(sql: string, params?: readonly unknown[], tx?: number, low?: boolean) =>
    call({
      op: 'query',
      sql,
      params,
      ...(tx === undefined ? {} : { tx }),
      ...(low ? { low } : {}),
    }) as Promise<SqlResult<T>>;

  return {
    dialect: 'pglite',
    thread: worker,
    query<T>(sql: string, params?: readonly unknown[], options?: QueryOptions) {
      return query<T>(sql, params, undefined, options?.background);
    },
    async exec(sql) {
      await call({ op: 'exec', sql });
    },
    async transaction<R>(fn: (tx: Pick<SqlClient, 'query'>) => Promise<R>): Promise<R> {
      const begin = request({ op: 'begin' });
      await begin.reply;
      const tx = begin.id;
      let value: R;
      try {
        value = await fn({
          query: <T>(sql: string, params?: readonly unknown[]) => query<T>(sql, params, tx),
        });
      } catch (err) {
        await call({ op: 'end', tx, commit: false }).catch(() => {});
        throw err;
      }
      await call({ op: 'end', tx, commit: true });
      return value;
    },
    async close() {
      if (closing) return;
      closing = true;
      if (!dead) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          call({ op: 'close' }).catch(() => {}),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
          }),
        ]);
        clearTimeout(timer);
      }
      await worker.terminate();
    },
  };
}
