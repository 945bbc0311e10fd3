import { Api } from 'grammy';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CallOutcome, TelegramOutbox } from '../../src/telegram/telegram-outbox.js';
import { FakeTelegramServer } from '../fakes/telegram/index.js';

const logger = pino({ level: 'silent' });

describe('TelegramOutbox (against the fake Bot API)', () => {
  let fake: FakeTelegramServer;
  let api: Api;
  let outbox: TelegramOutbox;
  const outcomes: string[] = [];

  const makeOutbox = (options: Partial<ConstructorParameters<typeof TelegramOutbox>[0]> = {}) =>
    new TelegramOutbox({
      api,
      logger,
      intervalMs: () => 40,
      maxRetryAfterMs: 1500,
      backoffMs: 20,
      onCall: (method: string, outcome: CallOutcome) => outcomes.push(`${method}:${outcome}`),
      ...options,
    });

  beforeEach(async () => {
    fake = await new FakeTelegramServer().start();
    api = new Api(fake.token, { apiRoot: fake.apiRoot });
    outcomes.length = 0;
    outbox = makeOutbox();
    fake.sendUserMessage({ text: 'hello', from: 7 }); // makes chat 7 known to the fake
    fake.sendUserMessage({ text: 'hello', from: 8 });
  });

  afterEach(async () => {
    await outbox.close(0);
    await fake.close();
  });

  it('sends HTML and returns the message id', async () => {
    const id = await outbox.send(7, { html: '<b>hi</b> &lt;x&gt;' });
    expect(id).toBeTypeOf('number');
    const [message] = fake.botMessages(7);
    expect(message?.text).toBe('hi <x>');
    expect(message?.entities).toEqual([{ type: 'bold', offset: 0, length: 2 }]);
  });

  it('coalesces a burst of edits into the latest text', async () => {
    const id = (await outbox.send(7, { html: 'v0' })) as number;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => outbox.edit(7, id, { html: `v${i + 1}` })),
    );
    expect(results.every(Boolean)).toBe(true);
    const message = fake.botMessages(7)[0];
    expect(message?.text).toBe('v20');
    // The first edit may already be in flight when the others arrive; the rest coalesce into one.
    expect(fake.callsOf('editMessageText', 7).length).toBeLessThanOrEqual(2);
  });

  it('paces calls to one chat by the interval', async () => {
    outbox = makeOutbox({ intervalMs: () => 150 });
    const id = (await outbox.send(7, { html: 'a' })) as number;
    await outbox.edit(7, id, { html: 'b' });
    await outbox.edit(7, id, { html: 'c' });
    const calls = [...fake.callsOf('sendMessage', 7), ...fake.callsOf('editMessageText', 7)].map((c) => c.at);
    expect(calls).toHaveLength(3);
    for (let i = 1; i < calls.length; i++)
      expect((calls[i] as number) - (calls[i - 1] as number)).toBeGreaterThanOrEqual(140);
  });

  it('treats "message is not modified" as success', async () => {
    const id = (await outbox.send(7, { html: 'same' })) as number;
    expect(await outbox.edit(7, id, { html: 'same' })).toBe(true);
    expect(fake.callsOf('editMessageText', 7)[0]?.description).toMatch(/message is not modified/);
    expect(outcomes).toContain('editMessageText:not_modified');
  });

  it('waits retry_after on 429 and then delivers, without blocking another chat', async () => {
    const id = (await outbox.send(7, { html: 'start' })) as number;
    fake.failNext({
      method: 'editMessageText',
      chatId: 7,
      error_code: 429,
      description: 'Too Many Requests: retry after 1',
      retry_after: 1,
    });
    const started = Date.now();
    const edited = outbox.edit(7, id, { html: 'after the storm' });
    // Chat 8 is served while chat 7 waits.
    const other = await outbox.send(8, { html: 'other chat' });
    expect(other).toBeTypeOf('number');
    expect(Date.now() - started).toBeLessThan(800);
    expect(await edited).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(fake.botMessages(7)[0]?.text).toBe('after the storm');
    expect(outcomes).toContain('editMessageText:rate_limited');
  });

  it('caps a long retry_after', async () => {
    outbox = makeOutbox({ maxRetryAfterMs: 200 });
    const id = (await outbox.send(7, { html: 'start' })) as number;
    fake.failNext({
      method: 'editMessageText',
      error_code: 429,
      description: 'Too Many Requests: retry after 3600',
      retry_after: 3600,
    });
    const started = Date.now();
    expect(await outbox.edit(7, id, { html: 'later' })).toBe(true);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('coalesces edits queued behind a rate-limited edit', async () => {
    const id = (await outbox.send(7, { html: 'start' })) as number;
    fake.failNext({
      method: 'editMessageText',
      error_code: 429,
      description: 'Too Many Requests: retry after 1',
      retry_after: 1,
    });
    const first = outbox.edit(7, id, { html: 'edit 1' });
    await fake.waitFor(() => fake.callsOf('editMessageText', 7).length === 1);
    const rest = Array.from({ length: 5 }, (_, i) => outbox.edit(7, id, { html: `edit ${i + 2}` }));
    expect(await Promise.all([first, ...rest])).toEqual([true, true, true, true, true, true]);
    // One rejected call, then one call with the latest text.
    expect(fake.callsOf('editMessageText', 7).map((c) => c.payload.text)).toEqual(['edit 1', 'edit 6']);
  });

  it('falls back to plain text when Telegram rejects the markup', async () => {
    const id = await outbox.send(7, { html: 'a <b>bold <i>mismatch</b></i>' });
    expect(id).toBeTypeOf('number');
    const message = fake.botMessages(7)[0];
    expect(message?.text).toBe('a bold mismatch');
    expect(message?.parseMode).toBeUndefined();
    expect(outcomes).toContain('sendMessage:fallback');
  });

  it('puts links in the text when Telegram rejects the buttons', async () => {
    const id = await outbox.send(7, { html: 'done', buttons: [[{ text: 'Preview', url: 'not a url' }]] });
    expect(id).toBeTypeOf('number');
    expect(fake.botMessages(7)[0]?.text).toBe('done\nPreview: not a url');
  });

  it('retries network-level failures (5xx) and gives up after maxAttempts', async () => {
    fake.failNext({ method: 'sendMessage', error_code: 502, description: 'Bad Gateway', times: 2 });
    expect(await outbox.send(7, { html: 'eventually' })).toBeTypeOf('number');
    fake.failNext({ method: 'sendMessage', error_code: 500, description: 'Internal', times: 10 });
    outbox = makeOutbox({ maxAttempts: 3 });
    expect(await outbox.send(7, { html: 'never' })).toBeNull();
    expect(fake.callsOf('sendMessage', 7).filter((c) => c.payload.text === 'never')).toHaveLength(3);
  });

  it('drops an edit of a message that no longer exists', async () => {
    expect(await outbox.edit(7, 999, { html: 'x' })).toBe(false);
  });

  it('sends a document with a caption', async () => {
    const content = 'x'.repeat(10_000);
    const id = await outbox.sendDocument(7, 'out.txt', content, { html: '<b>output</b>' });
    expect(id).toBeTypeOf('number');
    const message = fake.botMessages(7)[0];
    expect(message?.document).toMatchObject({ fileName: 'out.txt', content });
    expect(message?.text).toBe('output');
  });

  it('close() flushes pending work and later calls resolve empty', async () => {
    const id = (await outbox.send(7, { html: 'a' })) as number;
    const edited = outbox.edit(7, id, { html: 'b' });
    await outbox.close(2000);
    expect(await edited).toBe(true);
    expect(await outbox.send(7, { html: 'after close' })).toBeNull();
  });

  it('close() aborts a call Telegram never answers, once the flush time is up', async () => {
    let aborted = false;
    const silent = {
      sendMessage: (_chat: number, _text: string, _other?: unknown, signal?: AbortSignal) =>
        new Promise<never>((_resolve, reject) => {
          signal?.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('aborted'));
          });
        }),
    } as unknown as Api;
    const hung = makeOutbox({ api: silent });
    const sent = hung.send(7, { html: 'into the void' });
    await new Promise((r) => setTimeout(r, 50));
    const at = Date.now();
    await hung.close(200);
    expect(Date.now() - at).toBeLessThan(1000);
    expect(await sent).toBeNull();
    expect(aborted).toBe(true);
  });
});
