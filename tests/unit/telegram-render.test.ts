import { describe, expect, it } from 'vitest';
import type { Task, TaskEvent } from '../../src/core/index.js';
import { applyEvent, newProgress, type TaskProgress } from '../../src/core/task-progress.js';
import { renderAck, renderResult, renderStatus } from '../../src/telegram/render-progress.js';
import {
  escapeHtml,
  htmlToPlain,
  MAX_MESSAGE_LENGTH,
  tailText,
  truncateText,
  visibleLength,
} from '../../src/telegram/telegram-text.js';
import { makeTask } from '../fakes/llm/recording-context.js';
import { parseTelegramHtml } from '../fakes/telegram/index.js';

function task(overrides: Partial<Task> = {}): Task {
  const now = new Date('2025-01-01T00:00:00Z');
  return makeTask({
    id: '0b7c9a52-1111-4222-8333-444455556666',
    source: 'telegram',
    origin: { chatId: 7, messageId: 1 },
    requester: 'tg:7',
    repo: null,
    kind: 'shell',
    prompt: 'echo hi',
    input: { command: 'echo hi' },
    status: 'queued',
    attempts: 0,
    createdAt: now,
    startedAt: null,
    updatedAt: now,
    ...overrides,
  });
}

let seq = 0;
function ev(
  type: TaskEvent['type'],
  data: Record<string, unknown> = {},
  at = new Date('2025-01-01T00:00:01Z'),
): TaskEvent {
  seq += 1;
  return { taskId: 't', seq, at, type, data } as TaskEvent;
}

function progress(t: Task = task()): TaskProgress {
  seq = 0;
  return newProgress(t);
}

/** What Telegram would do with our HTML: parse it (throws on bad markup) and count. */
function telegramAccepts(html: string): string {
  const parsed = parseTelegramHtml(html);
  expect(parsed.text.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
  return parsed.text;
}

describe('telegram text helpers', () => {
  it('escapes only <, > and &', () => {
    expect(escapeHtml(`<b>"x" & 'y'</b>`)).toBe(`&lt;b&gt;"x" &amp; 'y'&lt;/b&gt;`);
    expect(htmlToPlain(escapeHtml('<a href="x">&amp;</a>'))).toBe('<a href="x">&amp;</a>');
  });

  it('counts UTF-16 code units and never splits a surrogate pair', () => {
    const emoji = '😀'.repeat(10); // 20 code units
    expect(visibleLength(emoji)).toBe(20);
    const cut = truncateText(emoji, 6);
    expect(cut.length).toBeLessThanOrEqual(6);
    expect(cut).toBe('😀😀…');
    const tail = tailText(emoji, 6);
    expect(tail.length).toBeLessThanOrEqual(6);
    expect(tail).toBe('…😀😀');
    expect(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(cut + tail)).toBe(false);
  });
});

describe('status message', () => {
  it('shows phase, elapsed time, the last steps and the output tail', () => {
    const p = progress();
    applyEvent(p, ev('task.started', {}, new Date('2025-01-01T00:00:00Z')));
    applyEvent(p, ev('command.started', { command: 'echo hi' }));
    applyEvent(p, ev('output', { stream: 'stdout', text: 'hi\n' }));
    const text = telegramAccepts(renderStatus(p, new Date('2025-01-01T00:00:02.500Z')).html);
    expect(text).toContain('Running · running command · 2.5 s');
    expect(text).toContain('$ echo hi');
    expect(text).toContain('hi');
    expect(text).toContain(p.taskId);
  });

  it('keeps only the last five steps', () => {
    const p = progress(task({ kind: 'dev', prompt: 'add a toggle', input: {} }));
    for (let i = 1; i <= 8; i++) applyEvent(p, ev('step', { phase: 'coding', message: `step ${i}` }));
    const text = telegramAccepts(renderStatus(p).html);
    expect(text).not.toContain('step 3');
    for (let i = 4; i <= 8; i++) expect(text).toContain(`step ${i}`);
  });

  it('stays within 4096 UTF-16 units with 5000-character output, HTML-looking text and emoji', () => {
    const p = progress(task({ prompt: '<script>alert("x")</script> & 😀'.repeat(50) }));
    applyEvent(p, ev('task.started'));
    applyEvent(p, ev('command.started', { command: '<b>not bold</b> && echo "&amp;"' }));
    applyEvent(p, ev('output', { text: `${'<i>&nbsp;😀</i>\n'.repeat(300)}${'x'.repeat(5000)}` }));
    for (let i = 0; i < 10; i++) applyEvent(p, ev('log', { message: `<tag> ${'😀'.repeat(300)}` }));
    const { html } = renderStatus(p);
    const text = telegramAccepts(html);
    expect(text).toContain('<b>not bold</b> && echo "&amp;"');
    expect(text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });

  it('the acknowledgement escapes the user text', () => {
    const text = telegramAccepts(renderAck('shell', 'cat <file> & echo').html);
    expect(text).toContain('$ cat <file> & echo');
  });
});

describe('result message', () => {
  it('carries the output and the PR and preview buttons', () => {
    const p = progress();
    applyEvent(p, ev('task.started'));
    applyEvent(p, ev('output', { text: 'hi\n' }));
    applyEvent(p, ev('command.finished', { exitCode: 0, durationMs: 12 }));
    applyEvent(p, ev('preview_ready', { url: 'https://devbot.example/preview/abc/', port: 8000 }));
    applyEvent(p, ev('pr_opened', { url: 'https://github.com/o/r/pull/1', number: 1 }));
    applyEvent(p, ev('task.succeeded', { summary: 'ran echo hi' }));
    const result = renderResult(p);
    const text = telegramAccepts(result.html);
    expect(text).toContain('Done');
    expect(text).toContain('ran echo hi');
    expect(text).toContain('$ echo hi\nhi');
    expect(text).toContain('exit code 0');
    expect(result.buttons).toEqual([
      [
        { text: '🔀 Pull request', url: 'https://github.com/o/r/pull/1' },
        { text: '🌐 Preview', url: 'https://devbot.example/preview/abc/' },
      ],
    ]);
    expect(result.document).toBeUndefined();
    // With the task's share link: an "Open task" button on its own row.
    expect(renderResult(p, 'https://devbot.example/ui/t/tok').buttons?.[1]).toEqual([
      { text: '📋 Open task', url: 'https://devbot.example/ui/t/tok' },
    ]);
  });

  it('sends long output as a document and shows its tail', () => {
    const p = progress();
    const output = `${'line <x> & 😀\n'.repeat(400)}THE END`;
    applyEvent(p, ev('output', { text: output }));
    applyEvent(p, ev('task.succeeded', {}));
    const result = renderResult(p);
    const text = telegramAccepts(result.html);
    expect(text).toContain('THE END');
    expect(text).toContain('is attached');
    expect(result.document?.content).toBe(output);
  });

  it('shows the error of a failed task', () => {
    const p = progress();
    applyEvent(p, ev('task.failed', { error: 'exit <1> & more' }));
    const text = telegramAccepts(renderResult(p).html);
    expect(text).toContain('Failed');
    expect(text).toContain('Error: exit <1> & more');
  });

  it('ignores an event it has already seen (by seq)', () => {
    const p = progress();
    const e = ev('output', { text: 'once' });
    expect(applyEvent(p, e)).toBe(true);
    expect(applyEvent(p, e)).toBe(false);
    expect(p.output).toBe('once');
  });
});
