/**
 * The worker's side of command approval (issue 18): a risky command's tool call asks, and waits in
 * place (the task keeps its sandbox and worker slot) until a person decides, the request times out
 * (a deny, with a message), or the task is cancelled (the wait ends at once). The decision may be
 * recorded by another process: the task's live event stream wakes the wait within a second, and a
 * slow poll of the store covers a lost message.
 */
import {
  CancelledError,
  type CommandApproval,
  type CommandApprovalRequest,
  type CommandApprovalStore,
  type CommandVerdict,
  type EventBus,
  type TaskEvent,
  type TaskStore,
} from '../core/index.js';

export interface CommandWaiterDeps {
  commands: CommandApprovalStore;
  events: Pick<TaskStore, 'listEvents'>;
  bus: Pick<EventBus, 'tail'>;
  /** How long a request waits before it counts as denied. */
  timeoutMs: number;
  /** How often the store is read while waiting (the live stream is the fast path). Default 5 s. */
  pollMs?: number;
  /** An event this process wrote: to the live bus and the reporters. */
  publish(event: TaskEvent): Promise<void>;
  /** An event another process wrote (and published): to the reporters only. */
  report(event: TaskEvent): Promise<void>;
}

const allowed = (a: CommandApproval): CommandVerdict => ({
  allowed: a.decision === 'allowed_once' || a.decision === 'allowed_task',
  decision: a.decision ?? 'expired',
  by: a.decidedBy ?? 'devbot',
});

export async function waitForCommandApproval(
  deps: CommandWaiterDeps,
  taskId: string,
  signal: AbortSignal,
  request: CommandApprovalRequest,
): Promise<CommandVerdict> {
  if (signal.aborted) throw signal.reason ?? new CancelledError();
  if (await deps.commands.allowedForTask(taskId, request.normalized))
    return { allowed: true, decision: 'allowed_task', by: 'an earlier "Allow for this task"' };
  const created = await deps.commands.request(taskId, request, new Date(Date.now() + deps.timeoutMs));
  if (!created) throw signal.reason ?? new CancelledError();
  await deps.publish(created.event);
  const { id } = created.approval;
  const stop = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let poll: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const decided = await new Promise<{ approval: CommandApproval; event: TaskEvent | null; ours: boolean }>(
      (resolve, reject) => {
        let settled = false;
        const settle = (approval: CommandApproval, event: TaskEvent | null, ours: boolean) => {
          if (settled) return;
          settled = true;
          resolve({ approval, event, ours });
        };
        const check = async (event: TaskEvent | null) => {
          const approval = await deps.commands.get(id);
          if (approval?.decision) settle(approval, event, false);
        };
        onAbort = () => {
          if (!settled) {
            settled = true;
            reject(signal.reason ?? new CancelledError());
          }
        };
        signal.addEventListener('abort', onAbort, { once: true });
        void (async () => {
          for await (const event of deps.bus.tail(taskId, created.event.seq, stop.signal)) {
            if (event.type === 'command.approval_decided' && event.data.id === id) await check(event);
          }
        })().catch(() => {});
        poll = setInterval(() => void check(null).catch(() => {}), deps.pollMs ?? 5000);
        poll.unref();
        timer = setTimeout(() => {
          void (async () => {
            const expired = await deps.commands.decide(taskId, id, { decision: 'expired', by: 'devbot' });
            if (expired) settle(expired.approval, expired.event, true);
            else await check(null);
          })().catch(() => {});
        }, deps.timeoutMs);
        timer.unref();
      },
    );
    const event = decided.event ?? (await decidedEvent(deps, taskId, created.event.seq, id));
    if (event) await (decided.ours ? deps.publish(event) : deps.report(event)).catch(() => {});
    return allowed(decided.approval);
  } finally {
    stop.abort();
    clearTimeout(timer);
    clearInterval(poll);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

async function decidedEvent(
  deps: CommandWaiterDeps,
  taskId: string,
  afterSeq: number,
  id: string,
): Promise<TaskEvent | null> {
  const events = await deps.events.listEvents(taskId, afterSeq, ['command.approval_decided']);
  return events.find((e) => e.type === 'command.approval_decided' && e.data.id === id) ?? null;
}
