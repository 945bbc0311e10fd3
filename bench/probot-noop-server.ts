/**
 * Probot alone: `createNodeMiddleware` (the stack the GitHub issue prescribes) with a handler that
 * does nothing, in its own process. Every delivery still gets Probot's signature check, parse and
 * per-event context (an authenticated Octokit from the token cache), but no permission check, no
 * task, no queue and no reaction. The webhook bench loads it with the same deliveries to show what
 * the framework costs before devbot does any work.
 *
 * With FLOOR_SCHEMA set, the handler also does the floor's durable write (bench/floor-writes.ts):
 * Probot plus the least a durable ingest must do, the floor under devbot's webhook path.
 *
 * Env: NOOP_APP_ID, NOOP_PRIVATE_KEY, NOOP_WEBHOOK_SECRET, NOOP_GITHUB_API_URL, and those of
 * bench/floor-writes.ts (optional).
 */
import { createServer } from 'node:http';
import { createNodeMiddleware, Probot } from 'probot';
import { type FloorWrites, openFloorWrites } from './floor-writes.js';

const probot = new Probot({
  appId: process.env['NOOP_APP_ID'] ?? '1',
  privateKey: process.env['NOOP_PRIVATE_KEY'] ?? '',
  secret: process.env['NOOP_WEBHOOK_SECRET'] ?? '',
  baseUrl: process.env['NOOP_GITHUB_API_URL'] ?? 'https://api.github.com',
  logLevel: 'error',
});
const writes: FloorWrites | null = process.env['FLOOR_SCHEMA'] ? await openFloorWrites() : null;
const middleware = await createNodeMiddleware(
  (app: Probot) => {
    app.on('issue_comment.created', async (context) => {
      await writes?.submit({
        bytes: JSON.stringify(context.payload.comment.body).length,
        delivery: context.id,
      });
    });
  },
  { probot, webhooksPath: '/api/github/webhooks' },
);
const server = createServer((req, res) => {
  void Promise.resolve(middleware(req, res)).then((handled) => {
    if (handled === false && !res.headersSent) res.writeHead(404).end();
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  process.stdout.write(`READY http://127.0.0.1:${address.port}/api/github/webhooks\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
