import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';

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
