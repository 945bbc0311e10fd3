/**
 * The floor: the least work any durable ingest has to do per request, with no framework and no
 * checks beyond the optional signature: read the body, verify an `x-hub-signature-256` HMAC when
 * FLOOR_VERIFY_SECRET is set, parse the JSON, insert one small row in PostgreSQL (an id, the
 * body's size and the delivery header: less than any real task row) and enqueue a BullMQ job
 * for it (bench/floor-writes.ts), then answer 202. Run in its own process like the bare server; the ingest benches load it
 * with the same requests to show how much of the gap to the bare server no implementation closes.
 *
 * Env: those of bench/floor-writes.ts, and FLOOR_VERIFY_SECRET (optional).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { openFloorWrites } from './floor-writes.js';

const secret = process.env['FLOOR_VERIFY_SECRET'];
const writes = await openFloorWrites();

function signatureOk(body: Buffer, header: string | string[] | undefined): boolean {
  if (!secret) return true;
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
  const got = Buffer.from(header);
  return got.length === expected.length && timingSafeEqual(got, expected);
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (!signatureOk(body, req.headers['x-hub-signature-256'])) {
      res.writeHead(401).end();
      return;
    }
    try {
      JSON.parse(body.toString('utf8'));
    } catch {
      res.writeHead(400).end();
      return;
    }
    const delivery = req.headers['x-github-delivery'];
    writes.submit({ bytes: body.length, delivery: typeof delivery === 'string' ? delivery : null }).then(
      (id) => {
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end(`{"id":"${id}"}`);
      },
      () => res.writeHead(500).end(),
    );
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  process.stdout.write(`READY http://127.0.0.1:${address.port}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  void writes.close().then(() => process.exit(0));
});
