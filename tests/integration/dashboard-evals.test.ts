import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDevbot, type TestDevbot } from '../helpers/test-devbot.js';

/** `devbot eval` reports under the data directory, listed on the dashboard for admins. */
describe('the dashboard lists eval runs', () => {
  let devbot: TestDevbot;
  const cookieFor = async (scopes: ('tasks:read' | 'tasks:write' | 'admin')[]) => {
    const client = await devbot.client('root', scopes);
    const res = await fetch(`${devbot.app.url}/ui/?token=${client.token}`, { redirect: 'manual' });
    const cookie = res.headers.get('set-cookie')?.split(';')[0];
    expect(cookie).toMatch(/=/);
    return cookie as string;
  };
  const get = async (path: string, cookie?: string) => {
    const res = await fetch(`${devbot.app.url}${path}`, { headers: cookie ? { cookie } : {} });
    return { status: res.status, text: await res.text() };
  };

  beforeAll(async () => {
    devbot = await startTestDevbot();
    const dir = join(devbot.config.dataDir, 'eval', '2026-12-04T10-00-00');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'report.json'),
      JSON.stringify({
        startedAt: '2026-12-04T10:00:00.000Z',
        suite: 'eval/<b>tasks</b>',
        model: 'gpt-test',
        runsPerTask: 3,
        totals: { tasks: 26, pass1: { mean: 0.5, min: 0.4, max: 0.6 }, passN: 0.75, costUsd: 1.25 },
      }),
    );
    writeFileSync(join(dir, 'report.md'), '| task | pass |\n| <script>alert(1)</script> | 1/3 |\n');
    mkdirSync(join(devbot.config.dataDir, 'eval', 'broken-run'), { recursive: true });
    writeFileSync(join(devbot.config.dataDir, 'eval', 'broken-run', 'report.json'), '{not json');
  });
  afterAll(async () => devbot?.stop());

  it('shows each run with its pass rates and cost, and its report as text, to admins only', async () => {
    const admin = await cookieFor(['tasks:read', 'tasks:write', 'admin']);
    const list = await get('/ui/evals', admin);
    expect(list.status).toBe(200);
    expect(list.text).toContain('50.0 %');
    expect(list.text).toContain('75.0 %');
    expect(list.text).toContain('26 × 3');
    expect(list.text).toContain('eval/&lt;b&gt;tasks&lt;/b&gt;');
    expect(list.text).toContain('unreadable report');
    const report = await get('/ui/evals/2026-12-04T10-00-00', admin);
    expect(report.status).toBe(200);
    expect(report.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(report.text).not.toContain('<script>alert(1)');
    expect((await get('/ui/evals/..%2F..%2Fjwt-secret', admin)).status).toBe(404);
    expect((await get('/ui/evals/nope', admin)).status).toBe(404);

    const plain = await cookieFor(['tasks:read', 'tasks:write']);
    expect((await get('/ui/evals', plain)).status).toBe(403);
    expect((await get('/ui/evals/2026-12-04T10-00-00', plain)).status).toBe(403);
    const signedOut = await get('/ui/evals');
    expect(signedOut.text).not.toContain('gpt-test');
  });
});
