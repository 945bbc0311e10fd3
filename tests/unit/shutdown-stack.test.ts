import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ShutdownStack } from '../../src/app/shutdown-stack.js';
import { createLogger } from '../../src/observability/logger.js';
import { isConnectionError, OutageLog } from '../../src/observability/outage-log.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'debug', format: 'json', destination }) };
}

describe('ShutdownStack', () => {
  it('runs steps in reverse, gives each its deadline, and ends within the grace period', async () => {
    const { lines, logger } = capture();
    const stack = new ShutdownStack(logger, { graceMs: 400, stepMs: 150 });
    const order: string[] = [];
    stack.push(async () => {
      order.push('first');
    }, 'first');
    stack.push(() => new Promise<void>(() => order.push('stuck')), 'stuck forever');
    stack.push({ name: 'slow', maxMs: 10_000, run: () => new Promise<void>(() => order.push('slow')) });
    stack.push(async () => {
      order.push('last');
      throw new Error('boom');
    }, 'last');
    const at = Date.now();
    await stack.stopAll();
    const took = Date.now() - at;
    expect(order).toEqual(['last', 'slow', 'stuck', 'first']);
    // "slow" may take the whole rest of the grace period, "stuck" gets nothing left, "first" runs.
    expect(took).toBeGreaterThanOrEqual(390);
    expect(took).toBeLessThan(1500);
    const late = lines.find((l) => String(l['msg']).startsWith('shutdown went on without waiting'));
    expect(late?.['steps']).toEqual(['slow', 'stuck forever']);
    expect(lines.some((l) => l['msg'] === 'error while stopping' && l['step'] === 'last')).toBe(true);
    // Twice: the same shutdown.
    await stack.stopAll();
    expect(order).toHaveLength(4);
  });
});

describe('OutageLog', () => {
  it('logs an outage once with its cause and fix, then at the slow interval, then its end', () => {
    const { lines, logger } = capture();
    let now = 0;
    const outage = new OutageLog(logger, {
      what: 'Redis',
      fix: 'start Redis',
      repeatMs: 60_000,
      now: () => now,
    });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    for (let i = 0; i < 100; i++) {
      outage.failed(refused);
      now += 1000; // a retry a second for 100 s
    }
    outage.recovered();
    outage.recovered();
    expect(lines.map((l) => l['msg'])).toEqual([
      'Redis is unreachable (connect ECONNREFUSED 127.0.0.1:1): start Redis. Retrying quietly; logged again every 60 s while it lasts',
      'Redis is still unreachable after 60 s (connect ECONNREFUSED 127.0.0.1:1): start Redis',
      'Redis is reachable again',
    ]);
    expect(JSON.stringify(lines)).not.toContain('"stack"');
    expect(outage.down).toBe(false);
  });

  it('tells connection failures from other errors', () => {
    expect(isConnectionError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isConnectionError(new Error('Connection is closed.'))).toBe(true);
    expect(isConnectionError(new AggregateError([Object.assign(new Error(''), { code: 'ETIMEDOUT' })]))).toBe(
      true,
    );
    expect(isConnectionError(new Error('Missing lock for job 1. moveToFinished'))).toBe(false);
  });
});
