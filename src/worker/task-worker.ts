import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  type ApprovalStore,
  CancelledError,
  type CommandApprovalStore,
  type EventBus,
  errorMessage,
  isPermanent,
  type KindHandler,
  LimitExceededError,
  missingHandlerReason,
  type NewTaskEvent,
  PlanApprovalNeeded,
  type SteerMessage,
  type Task,
  type TaskContext,
  type TaskEvent,
  type TaskKind,
  type TaskPatch,
  type TaskReporter,
  type TaskResult,
  type TaskRouter,
  type TaskStore,
  UnavailableError,
} from '../core/index.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { isConnectionError, type OutageLog } from '../observability/outage-log.js';
import type { SecretRegistry } from '../observability/redact.js';
import { type JobData, QUEUE_NAME } from '../queue/bullmq-task-queue.js';
import { waitForCommandApproval } from './command-waiter.js';

export interface TaskWorkerOptions {
  connection: Redis;
  prefix: string;
  /** This deployment's id: a job another deployment enqueued on a shared prefix is put back. */
  deployment?: string;
  concurrency: number;
  attempts: number;
  taskTimeoutMs: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  store: TaskStore;
  bus: EventBus;
  handlers: Partial<Record<TaskKind, Pick<KindHandler, 'handle'>>>;
  reporters: TaskReporter[];
  router?: TaskRouter | undefined;
  logger: Logger;
  metrics: Metrics;
  secrets: SecretRegistry;
  /** How long stop() lets running tasks finish before handing them back to the queue. */
  shutdownGraceMs?: number;
  /** How long an aborted handler gets to stop at its next check before the task ends anyway. */
  abortSettleMs?: number;
  /** Where a task that waits for a person stores its request, and how long it may wait. */
  approvals?: { store: ApprovalStore; timeoutMs: number };
  /**
   * Where risky commands ask a person (`approval: commands`), how long they wait before counting as
   * denied, and how often the store is read while waiting (the live event stream is the fast path).
   */
  commandApprovals?: { store: CommandApprovalStore; timeoutMs: number; pollMs?: number };
  /** Where the queue's connection failures go (logged once, then at a slow interval). */
  outage?: OutageLog | undefined;
}

class ShutdownError extends Error {
  constructor() {
    super('the worker is shutting down; the task goes back to the queue');
  }
}

/**
 * Runs tasks from the queue: route `auto` tasks, call the kind's handler, record every step as a
 * task event, fan events out to reporters, and end each task exactly once.
 */
export class TaskWorker {
  #worker: Worker<JobData> | null = null;
  readonly #running = new Map<string, AbortController>();
  /** The run of each task in this process, so a second delivery of its job joins it (see #process). */
  readonly #runs = new Map<string, Promise<void>>();
  #unsubscribeCancel: (() => Promise<void>) | null = null;
  #stopping: Promise<void> | null = null;

  constructor(private readonly options: TaskWorkerOptions) {}

  async start(): Promise<void> {
    if (this.#worker) return;
    this.#unsubscribeCancel = await this.options.bus.onCancel((taskId) => {
      this.#running.get(taskId)?.abort(new CancelledError());
    });
    this.#worker = new Worker<JobData>(QUEUE_NAME, (job, token) => this.#process(job, token), {
      connection: this.options.connection,
      prefix: this.options.prefix,
      concurrency: this.options.concurrency,
      lockDuration: this.options.lockDurationMs,
      // Renewed every third of its duration: a busy event loop has two more chances before the
      // lock runs out and the job is handed out again.
      lockRenewTime: Math.max(100, Math.round(this.options.lockDurationMs / 3)),
      stalledInterval: this.options.stalledIntervalMs,
      maxStalledCount: 2,
    });
    this.#worker.on('error', (err) => {
      // BullMQ reports every failed reconnect: an unreachable Redis is one outage, not a stack
      // trace every two seconds.
      if (this.options.outage && isConnectionError(err)) this.options.outage.failed(err);
      else this.options.logger.error({ err }, 'queue worker error');
    });
    // Connected, and so named in Redis: another process starting now sees a live worker (bounded:
    // a Redis gone meanwhile is the outage log's to report, not a reason to hang the start).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#worker.waitUntilReady().catch(() => {}),
      new Promise((resolve) => {
        timer = setTimeout(resolve, 10_000);
      }),
    ]).finally(() => clearTimeout(timer));
    this.options.metrics.workerUp.set(1);
  }

  /** Tasks this worker is running now (a task waiting for a person is not one of them). */
  get activeCount(): number {
    return this.#running.size;
  }

  /** Lets running tasks finish for the grace period, then hands them back. Safe to call twice. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const worker = this.#worker;
      if (!worker) return;
      const grace = this.options.shutdownGraceMs ?? 10_000;
      const timer = setTimeout(() => {
        for (const controller of this.#running.values()) controller.abort(new ShutdownError());
      }, grace);
      timer.unref();
      try {
        await worker.close();
      } finally {
        clearTimeout(timer);
        await this.#unsubscribeCancel?.();
        this.options.metrics.workerUp.set(0);
      }
    })();
    return this.#stopping;
  }

  /** Deployments whose jobs were seen here (each is warned about once). */
  readonly #foreign = new Set<string>();

  /**
   * A job delivered while this process still runs its task (its lock ran out under a starved event
   * loop and BullMQ handed it out again) joins the run under way instead of starting a second one;
   * the job then ends with that run's outcome under its new lock.
   */
  #process(job: Job<JobData>, token?: string): Promise<void> {
    const { taskId } = job.data;
    const under = this.#runs.get(taskId);
    if (under) {
      this.options.logger.warn(
        { taskId },
        'the task was handed out again while it runs here (its lock ran out: a busy event loop?); not starting it twice',
      );
      return under;
    }
    const run = this.#run(job, token).finally(() => {
      if (this.#runs.get(taskId) === run) this.#runs.delete(taskId);
    });
    this.#runs.set(taskId, run);
    return run;
  }

  async #run(job: Job<JobData>, token?: string): Promise<void> {
    const { taskId } = job.data;
    const { store, logger } = this.options;
    const theirs = job.data.deployment;
    if (theirs && this.options.deployment && theirs !== this.options.deployment) {
      // Another deployment's task on a shared queue prefix: not ours to run or to fail. Back to
      // the queue untouched (a little later, so its own workers get to it first).
      if (!this.#foreign.has(theirs)) {
        this.#foreign.add(theirs);
        logger.warn(
          { deployment: theirs, prefix: this.options.prefix },
          `another devbot deployment (${theirs}) uses the queue prefix ${this.options.prefix} on this Redis: its jobs are left to it, but both slow down; give each deployment its own DEVBOT_QUEUE_PREFIX (or unset it: the default is per deployment)`,
        );
      }
      await job.moveToDelayed(Date.now() + 2000, token);
      throw new DelayedError();
    }
    const existing = await store.getTask(taskId);
    if (!existing) throw new UnrecoverableError(`task ${taskId} does not exist`);
    if (existing.status === 'succeeded' || existing.status === 'failed' || existing.status === 'cancelled') {
      // Cancelled while no worker ran it (queued, waiting for a person, between attempts): the
      // reporters have not heard of its end yet.
      if (existing.status === 'cancelled' && (await this.#endedUnattended(existing)))
        await this.#reportStoredEnd(existing);
      return;
    }
    const task = await store.markRunning(taskId);
    if (!task) return;
    if (task.attempts === 1)
      this.options.metrics.queueWait.observe((Date.now() - job.data.enqueuedAt) / 1000);

    const controller = new AbortController();
    this.#running.set(taskId, controller);
    const timeout = setTimeout(
      () =>
        controller.abort(new LimitExceededError(`the task ran longer than ${this.options.taskTimeoutMs} ms`)),
      this.options.taskTimeoutMs,
    );
    const log = logger.child({ taskId, kind: task.kind, attempt: task.attempts });
    const started = performance.now();
    let current = task;
    let context: TaskContext | null = null;
    const emit: TaskContext['emit'] = async (type, data, options = {}) => {
      const event = await store.appendEvent(
        taskId,
        { type, data: this.options.secrets.redactDeep(data) } as NewTaskEvent,
        options.patch,
      );
      if (options.patch) {
        // The store wrote exactly these fields; the in-memory task follows without a read.
        current = { ...current, ...options.patch } as Task;
        if (context) context.task = current;
      }
      await this.#fanOut(current, event);
      return event;
    };
    try {
      const startedEvent = await emit('task.started', { attempt: task.attempts });
      // Steering messages sent from here on (one just before the start included) are this attempt's.
      let steerSeq = startedEvent.seq - 1;
      const takeMessages = async (): Promise<SteerMessage[]> => {
        const found = await store.listEvents(taskId, steerSeq, ['steer']);
        const messages: SteerMessage[] = [];
        for (const e of found) {
          steerSeq = Math.max(steerSeq, e.seq);
          if (e.type !== 'steer') continue;
          messages.push({ by: e.data.by, text: e.data.text });
          await emit('log', { message: `📝 noted: ${e.data.text}` });
        }
        return messages;
      };
      const ctx: TaskContext = {
        task: current,
        emit,
        patch: async (patch) => {
          const updated = await store.patchTask(taskId, patch);
          if (updated) {
            current = updated;
            ctx.task = updated;
          }
        },
        signal: controller.signal,
        attempt: task.attempts,
        takeMessages,
        ...(this.options.commandApprovals
          ? {
              askCommand: (request) => {
                const commands = this.options.commandApprovals as NonNullable<
                  TaskWorkerOptions['commandApprovals']
                >;
                return waitForCommandApproval(
                  {
                    commands: commands.store,
                    events: store,
                    bus: this.options.bus,
                    timeoutMs: commands.timeoutMs,
                    ...(commands.pollMs !== undefined ? { pollMs: commands.pollMs } : {}),
                    publish: (event) => this.#fanOut(current, event),
                    report: (event) => this.#report(current, event),
                  },
                  taskId,
                  controller.signal,
                  // The command goes to people (chat, issue comment) and the events: no known secret.
                  {
                    command: this.options.secrets.redact(request.command),
                    normalized: this.options.secrets.redact(request.normalized),
                    reasons: this.options.secrets.redact(request.reasons),
                  },
                );
              },
            }
          : {}),
      };
      context = ctx;
      if (current.kind === 'auto') {
        const decision = await this.#route(current, controller.signal);
        await ctx.patch({ kind: decision.kind, input: { ...current.input, ...decision.input } });
        await emit('task.routed', {
          kind: decision.kind,
          reason: decision.reason,
          ...(decision.confidence !== undefined ? { confidence: decision.confidence } : {}),
          ...(decision.input ? { input: { ...decision.input } } : {}),
        });
      }
      const handler = this.options.handlers[current.kind]?.handle;
      if (!handler) {
        throw new UnavailableError(missingHandlerReason(current.kind));
      }
      const result = await raceAbort(handler(ctx), controller.signal, this.options.abortSettleMs ?? 10_000);
      // Messages that came after the crew's last turn were never read: say so rather than "noted".
      for (const e of await store.listEvents(taskId, steerSeq, ['steer']))
        if (e.type === 'steer')
          await emit('log', { message: `📝 arrived after the crew's last step, not used: ${e.data.text}` });
      const finished = await store.finishTask(taskId, 'succeeded', resultPatch(result), {
        summary: result.summary,
      });
      if (finished) await this.#ended(finished, started);
      log.info({ durationMs: Math.round(performance.now() - started) }, 'task succeeded');
    } catch (raw) {
      const err = controller.signal.aborted ? (controller.signal.reason ?? raw) : raw;
      if (err instanceof PlanApprovalNeeded) {
        await this.#wait(current, err, log);
        return;
      }
      if (err instanceof ShutdownError) {
        await store.markQueued(taskId);
        await emit('task.retrying', { reason: err.message }).catch(() => {});
        throw err;
      }
      if (err instanceof CancelledError) {
        // The API already marked it cancelled; tell the reporters.
        await this.#reportStoredEnd(await store.getTask(taskId));
        return;
      }
      const message = this.options.secrets.redact(errorMessage(err));
      const lastAttempt = task.attempts >= this.options.attempts;
      if (isPermanent(err) || lastAttempt || err instanceof UnrecoverableError) {
        const finished = await store.finishTask(
          taskId,
          'failed',
          { error: message },
          { error: message, code: (err as { code?: string }).code ?? 'error' },
        );
        if (finished) await this.#ended(finished, started);
        log.warn({ err: message }, 'task failed');
        return;
      }
      await store.markQueued(taskId);
      await emit('task.retrying', { attempt: task.attempts, error: message }).catch(() => {});
      log.warn({ err: message }, 'task attempt failed; retrying');
      throw new Error(message, { cause: err });
    } finally {
      clearTimeout(timeout);
      this.#running.delete(taskId);
    }
  }

  /**
   * The task stops for a person: its plan is stored and it leaves the worker (the job completes,
   * the handler already closed its sandbox). An approval enqueues it again.
   */
  async #wait(task: Task, need: PlanApprovalNeeded, log: Logger): Promise<void> {
    const approvals = this.options.approvals;
    if (!approvals) throw new UnavailableError('this worker cannot hold tasks for approval');
    const expiresAt = new Date(Date.now() + approvals.timeoutMs);
    const waiting = await approvals.store.markWaiting(task.id, need.plan, expiresAt);
    if (!waiting) {
      // Cancelled meanwhile: report that end instead.
      await this.#reportStoredEnd(await this.options.store.getTask(task.id));
      return;
    }
    this.options.metrics.tasksTotal.inc({ source: task.source, kind: task.kind, status: 'waiting' });
    await this.#fanOut(waiting.task, waiting.event);
    log.info({ round: waiting.pending.round, expiresAt }, 'task waits for approval of its plan');
  }

  /**
   * Cancels the tasks whose approval expired, each with a message that says so, and reports the end.
   * Safe to run on several workers at once: a task ends exactly once.
   */
  async expireApprovals(now = new Date()): Promise<string[]> {
    const approvals = this.options.approvals;
    if (!approvals) return [];
    const expired: string[] = [];
    const hours = approvals.timeoutMs / 3_600_000;
    const wait =
      hours >= 1 ? `${Math.round(hours * 10) / 10} h` : `${Math.round(approvals.timeoutMs / 1000)} s`;
    for (const taskId of await approvals.store.expired(now)) {
      // Closed first: a decision that came in meanwhile wins, and the task goes on.
      if (!(await approvals.store.closeExpired(taskId, now))) continue;
      const reason = `no one approved the plan within ${wait}; the task was cancelled`;
      const finished = await this.options.store.finishTask(
        taskId,
        'cancelled',
        { error: reason },
        { by: 'devbot', reason },
      );
      if (!finished) continue;
      this.options.metrics.approvalsTotal.inc({ decision: 'expired' });
      this.options.metrics.tasksTotal.inc({
        source: finished.task.source,
        kind: finished.task.kind,
        status: 'cancelled',
      });
      await this.#fanOut(finished.task, finished.event);
      expired.push(taskId);
    }
    return expired;
  }

  /** Whether a cancelled task ended while no worker ran it (so no worker reported its end). */
  async #endedUnattended(task: Task): Promise<boolean> {
    if (task.startedAt === null) return true;
    const events = await this.options.store.listEvents(task.id);
    const before = events.findLastIndex((e) => e.type === 'task.cancelled') - 1;
    const prior = events[before]?.type;
    return prior === 'task.waiting' || prior === 'approval' || prior === 'task.retrying';
  }

  async #route(task: Task, signal: AbortSignal) {
    if (!this.options.router) {
      throw new UnavailableError(
        'no intent router is configured: send an explicit kind (shell, dev, question) or configure an LLM',
      );
    }
    return this.options.router.route(task, signal);
  }

  async #ended(finished: { task: Task; event: TaskEvent }, started: number): Promise<void> {
    const { task } = finished;
    this.options.metrics.tasksTotal.inc({ source: task.source, kind: task.kind, status: task.status });
    this.options.metrics.taskDuration.observe(
      { kind: task.kind, status: task.status },
      (performance.now() - started) / 1000,
    );
    await this.#fanOut(task, finished.event);
  }

  async #reportStoredEnd(task: Task | null): Promise<void> {
    if (!task) return;
    const events = await this.options.store.listEvents(task.id);
    const end = events.findLast((e) => e.type === `task.${task.status}`);
    if (end) {
      for (const reporter of this.options.reporters) {
        if (reporter.accepts(task)) await this.#safeReport(reporter, task, end);
      }
    }
  }

  async #fanOut(task: Task, event: TaskEvent): Promise<void> {
    await this.options.bus.publish(event).catch((err) => {
      this.options.logger.warn({ err, taskId: task.id }, 'live event not published');
    });
    for (const reporter of this.options.reporters) {
      if (reporter.accepts(task)) await this.#safeReport(reporter, task, event);
    }
  }

  /** An event another process already published: to this worker's reporters only. */
  async #report(task: Task, event: TaskEvent): Promise<void> {
    for (const reporter of this.options.reporters) {
      if (reporter.accepts(task)) await this.#safeReport(reporter, task, event);
    }
  }

  async #safeReport(reporter: TaskReporter, task: Task, event: TaskEvent): Promise<void> {
    try {
      await reporter.onEvent(task, event);
    } catch (err) {
      // A reporter failing (Telegram down, GitHub 500) must never fail the task.
      this.options.metrics.errorsTotal.inc({ component: `reporter_${reporter.name}` });
      this.options.logger.warn({ err, taskId: task.id, reporter: reporter.name }, 'reporter failed');
    }
  }
}

/** The task row's columns that mirror the typed result (what lists and reporters read). */
function resultPatch(result: TaskResult): TaskPatch {
  return {
    resultSummary: result.summary,
    result,
    ...(result.branch ? { branch: result.branch } : {}),
    ...(result.pr ? { prUrl: result.pr.url } : {}),
    ...(result.preview ? { previewUrl: result.preview.url } : {}),
  };
}

/**
 * The handler's result; once the signal aborts (cancel, timeout, shutdown), the handler gets
 * `settleMs` to stop at its next check (a push already under way is not left running behind a task
 * that says it ended), then the abort reason wins whatever the handler still does.
 */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, settleMs: number): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | null = null;
    const onAbort = () => {
      timer = setTimeout(() => reject(signal.reason), settleMs);
      timer.unref();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      signal.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
    };
    promise.then(
      (v) => {
        done();
        // A handler that finished after the abort still ended aborted: its work is not reported.
        if (signal.aborted) reject(signal.reason);
        else resolve(v);
      },
      (e) => {
        done();
        reject(signal.aborted ? signal.reason : e);
      },
    );
  });
}
