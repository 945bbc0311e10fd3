import { Api, GrammyError } from 'grammy';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeTelegramServer } from '../fakes/telegram/index.js';

/** The fake must behave like Telegram where devbot depends on it, or the other tests prove nothing. */
describe('fake Telegram Bot API', () => {
  let fake: FakeTelegramServer;
  let api: Api;

  beforeEach(async () => {
    fake = await new FakeTelegramServer().start();
    api = new Api(fake.token, { apiRoot: fake.apiRoot });
    fake.sendUserMessage({ from: 7, text: 'hi' });
  });
  afterEach(async () => fake.close());

  const errorOf = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GrammyError);
    return err as GrammyError;
  };

  it('rejects a wrong token with 401', async () => {
    const other = new Api('1:wrong', { apiRoot: fake.apiRoot });
    expect((await errorOf(other.getMe())).error_code).toBe(401);
  });

  it('getUpdates: offset confirms, timeout long-polls, a second poller ends the first with 409', async () => {
    const [first] = await api.getUpdates({ timeout: 0 });
    expect(first?.message?.text).toBe('hi');
    expect(await api.getUpdates({ offset: (first?.update_id ?? 0) + 1, timeout: 0 })).toEqual([]);
    const started = Date.now();
    expect(await api.getUpdates({ offset: (first?.update_id ?? 0) + 1, timeout: 1 })).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const waiting = api.getUpdates({ timeout: 5 });
    await fake.waitFor(() => fake.callsOf('getUpdates').length === 4);
    const second = api.getUpdates({ timeout: 0 });
    expect((await errorOf(waiting)).error_code).toBe(409);
    await second;
    // A long poll is answered as soon as an update arrives.
    const woken = api.getUpdates({ offset: (first?.update_id ?? 0) + 1, timeout: 5 });
    await fake.waitFor(() => fake.callsOf('getUpdates').length === 6);
    fake.sendUserMessage({ from: 7, text: 'again' });
    expect((await woken).map((u) => u.message?.text)).toEqual(['again']);
  });

  it('with a webhook set, getUpdates is 409 and updates are POSTed with the secret', async () => {
    const received: { secret: string | undefined; body: string }[] = [];
    const { createServer } = await import('node:http');
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ secret: req.headers['x-telegram-bot-api-secret-token'] as string | undefined, body });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const { port } = hook.address() as { port: number };
    await api.setWebhook(`http://127.0.0.1:${port}/x`, { secret_token: 's3cret' });
    expect((await errorOf(api.getUpdates({ timeout: 0 }))).error_code).toBe(409);
    await fake.waitFor(() => received.length >= 1);
    expect(received[0]?.secret).toBe('s3cret');
    expect(JSON.parse(received[0]?.body ?? '{}').message.text).toBe('hi');
    await new Promise<void>((r) => hook.close(() => r()));
  });

  it('counts 4096 in UTF-16 code units after entity parsing', async () => {
    await api.sendMessage(7, `<b>${'a'.repeat(4096)}</b>`, { parse_mode: 'HTML' });
    await api.sendMessage(7, '😀'.repeat(2048));
    expect((await errorOf(api.sendMessage(7, '😀'.repeat(2048) + 'x'))).description).toMatch(/too long/);
    expect(
      (await errorOf(api.sendMessage(7, '&lt;'.repeat(4097), { parse_mode: 'HTML' }))).description,
    ).toMatch(/too long/);
  });

  it('rejects bad HTML with "can\'t parse entities"', async () => {
    for (const bad of ['<b>open', 'a < b', '<foo>x</foo>', '<b><i>x</b></i>']) {
      expect((await errorOf(api.sendMessage(7, bad, { parse_mode: 'HTML' }))).description).toMatch(
        /can't parse entities/,
      );
    }
  });

  it('answers "message is not modified" for an identical edit and 429 past the rate', async () => {
    const m = await api.sendMessage(7, 'same');
    expect((await errorOf(api.editMessageText(7, m.message_id, 'same'))).description).toMatch(
      /message is not modified/,
    );
    fake.setRateLimit('private', { max: 2, windowMs: 10_000 });
    await api.sendMessage(7, 'one');
    await api.sendMessage(7, 'two');
    const err = await errorOf(api.sendMessage(7, 'three'));
    expect(err.error_code).toBe(429);
    expect(err.parameters.retry_after).toBeGreaterThan(0);
  });
});
