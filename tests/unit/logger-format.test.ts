import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import pinoLoki from 'pino-loki';
import { describe, expect, it } from 'vitest';
import { createLogger, lokiOptions } from '../../src/observability/logger.js';

function capture() {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { destination, text: () => chunks.join('') };
}

describe('log formats', () => {
  it('pretty: one readable line per entry, secrets still masked', () => {
    const out = capture();
    const secret = 'tg-secret-0123456789';
    const logger = createLogger({
      format: 'pretty',
      destination: out.destination,
      secrets: () => [secret],
    });
    logger.info({ task: 't1' }, `devbot started with ${secret}`);
    const text = out.text();
    expect(text).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: devbot started with \[redacted\] \{"task":"t1"\}\n$/,
    );
    expect(text).not.toContain(secret);
    expect(text).not.toMatch(/^\{/m);
    // No color codes when writing anywhere but a terminal.
    expect(text).not.toContain('\u001b[');
  });

  it('json: one JSON object per line (the default for a destination that is not a terminal)', () => {
    for (const format of ['json', undefined] as const) {
      const out = capture();
      createLogger({ format, destination: out.destination }).info('devbot started');
      expect(JSON.parse(out.text())).toMatchObject({ level: 30, msg: 'devbot started', service: 'devbot' });
    }
  });
});

describe('logs shipped to Loki', () => {
  it('each stream carries app, role and level as a string label (what the error-log panel selects)', async () => {
    const pushes: { streams: { stream: Record<string, string>; values: string[][] }[] }[] = [];
    const loki = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        pushes.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    loki.listen(0, '127.0.0.1');
    await once(loki, 'listening');
    try {
      const url = `http://127.0.0.1:${(loki.address() as AddressInfo).port}`;
      // The options the logger gives its pino-loki transport, run in-process (no worker thread).
      const transport = pinoLoki({ ...lokiOptions(url), batching: false });
      const logger = pino({ base: { service: 'devbot', role: 'worker' } }, transport);
      logger.error('task failed');
      logger.fatal('cannot start');
      logger.info('fine');
      await expect.poll(() => pushes.length, { timeout: 5000 }).toBe(3);
      const streams = pushes.flatMap((p) => p.streams.map((s) => s.stream));
      expect(streams.map((s) => s['level'])).toEqual(['error', 'critical', 'info']);
      for (const stream of streams) expect(stream).toMatchObject({ app: 'devbot', role: 'worker' });
    } finally {
      loki.close();
    }
  });
});
