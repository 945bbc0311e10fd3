/** The task page (`/ui/tasks/<id>` and share links `/ui/t/<token>`), rendered on the server. */
import { githubOrigin, isTerminal, type Task, type TaskEvent, telegramOrigin } from '../../core/index.js';
import { ago, badge, cost, esc, eventLine, page, safeHref, taskDuration } from './ui-html.js';

/** Output kept on the page (the tail; the events hold all of it). */
const OUTPUT_SHOWN = 256 * 1024;

export interface TaskPageOptions {
  task: Task;
  events: TaskEvent[];
  /** 'share': a read-only link (no cancel, no list, streams with the share token). */
  viewer: { kind: 'user' } | { kind: 'share'; token: string };
}

export function renderTaskPage({ task, events, viewer }: TaskPageOptions): string {
  const lastSeq = events.at(-1)?.seq ?? 0;
  const running = !isTerminal(task.status);
  const output = events
    .filter((e) => e.type === 'output')
    .map((e) => (e.type === 'output' ? e.data.text : ''))
    .join('');
  const shownOutput = output.length > OUTPUT_SHOWN ? output.slice(-OUTPUT_SHOWN) : output;
  const diffEvent = events.findLast((e) => e.type === 'diff');
  const diff = diffEvent?.type === 'diff' ? diffEvent.data : null;
  const result = task.result;
  const cancel =
    viewer.kind === 'user' && running
      ? `<button type="button" id="cancel" class="danger" data-task="${esc(task.id)}">Cancel</button>`
      : '';
  const body = `
<section class="head">
  <h1>${badge(task.status)} <span class="kind">${esc(task.kind)}</span> task</h1>
  ${cancel}
  <dl class="facts">
    <dt>Source</dt><dd>${esc(task.source)}</dd>
    <dt>Repository</dt><dd>${esc(task.repo ?? '—')}</dd>
    <dt>Requester</dt><dd>${esc(task.requester)}</dd>
    <dt>Created</dt><dd><time datetime="${esc(task.createdAt.toISOString())}">${esc(ago(task.createdAt))}</time></dd>
    <dt>Duration</dt><dd id="duration">${esc(taskDuration(task) || '—')}</dd>
    <dt>Cost</dt><dd>${esc(cost(task.usage.costUsd) || '—')}</dd>
  </dl>
</section>
<section><h2>Request</h2><pre class="prompt" id="prompt">${esc(task.prompt)}</pre></section>
${task.resultSummary || task.error ? `<section><h2>Result</h2><p class="summary">${esc(task.error ?? task.resultSummary)}</p></section>` : ''}
${linksSection(task, events)}
${result?.plan?.length ? `<section><h2>Plan</h2><ol class="plan">${result.plan.map((s) => `<li>${esc(s)}</li>`).join('')}</ol></section>` : ''}
${checksSection(task)}
${diff ? diffSection(diff) : ''}
<section><h2>Output</h2><pre class="output" id="output">${esc(shownOutput)}</pre></section>
${usageSection(task, events)}
<section><h2>Timeline</h2><ol class="timeline" id="timeline">${events.map(timelineItem).join('')}</ol>
<p class="live" id="live" hidden>live</p></section>`;
  const stream =
    viewer.kind === 'share'
      ? `/tasks/${task.id}/stream?share=${encodeURIComponent(viewer.token)}`
      : `/tasks/${task.id}/stream`;
  return page({
    title: `${task.kind} task ${task.id.slice(0, 8)}`,
    body,
    signedIn: viewer.kind === 'user',
    data: {
      page: 'task',
      task: task.id,
      'last-seq': String(lastSeq),
      stream,
      status: task.status,
    },
  });
}

function timelineItem(e: TaskEvent): string {
  return `<li data-seq="${e.seq}" class="ev ev-${esc(e.type.replace(/[^a-z]/g, '-'))}"><time datetime="${esc(e.at.toISOString())}">${esc(e.at.toISOString().slice(11, 19))}</time> <span>${esc(eventLine(e))}</span></li>`;
}

function link(label: string, url: string | null | undefined, text?: string): string {
  const href = safeHref(url);
  if (!href) return '';
  return `<li>${esc(label)}: <a href="${esc(href)}" rel="noreferrer noopener" target="_blank">${esc(text ?? url)}</a></li>`;
}

function linksSection(task: Task, events: TaskEvent[]): string {
  const items: string[] = [];
  const prUrl = task.prUrl ?? task.result?.pr?.url ?? null;
  items.push(link('Pull request', prUrl));
  const gh = githubOrigin(task);
  const branch = task.branch ?? task.result?.branch ?? null;
  if (branch) {
    const href = gh ? `https://github.com/${gh.owner}/${gh.repo}/tree/${encodeURIComponent(branch)}` : null;
    items.push(
      href
        ? link('Branch', href, branch)
        : `<li>Branch: <code>${esc(branch)}</code>${task.result?.commit ? ` at <code>${esc(task.result.commit.slice(0, 12))}</code>` : ''}</li>`,
    );
  }
  if (gh)
    items.push(
      link(
        'GitHub',
        `https://github.com/${gh.owner}/${gh.repo}/issues/${gh.issueNumber}`,
        `${gh.owner}/${gh.repo}#${gh.issueNumber}`,
      ),
    );
  const tg = telegramOrigin(task);
  if (tg) items.push(`<li>Telegram chat: <code>${esc(tg.chatId)}</code></li>`);
  const ready = events.findLast((e) => e.type === 'preview_ready');
  const preview =
    task.previewUrl ?? task.result?.preview?.url ?? (ready?.type === 'preview_ready' ? ready.data.url : null);
  items.push(link('Preview', preview));
  const shown = items.filter(Boolean);
  return `<section><h2>Links</h2><ul class="links" id="links">${shown.join('') || '<li class="none">none yet</li>'}</ul></section>`;
}

function checksSection(task: Task): string {
  const checks = task.result?.checks ?? [];
  const tests = task.result?.tests;
  if (!checks.length && !tests) return '';
  const rows = checks
    .map(
      (c) =>
        `<li class="${c.exitCode === 0 ? 'pass' : 'fail'}"><span class="outcome">${c.exitCode === 0 ? 'passed' : `failed (exit ${c.exitCode})`}</span> <span class="check-kind">${esc(c.kind)}</span> <code>${esc(c.command)}</code></li>`,
    )
    .join('');
  const summary = tests ? `<p>Tests: ${tests.passed} passed, ${tests.failed} failed</p>` : '';
  return `<section><h2>Checks</h2><ul class="checks">${rows}</ul>${summary}</section>`;
}

/** A unified diff as files and hunks, each line classed add / del / hunk / context (no syntax colours). */
export function diffSection(diff: { text: string; files: number; truncated?: boolean }): string {
  const files: { name: string; lines: string[] }[] = [];
  for (const line of diff.text.replace(/\n$/, '').split('\n')) {
    const header = /^diff --git a\/(.*) b\/(.*)$/.exec(line);
    if (header) {
      files.push({ name: header[2] ?? header[1] ?? '', lines: [] });
      continue;
    }
    const file = files.at(-1);
    if (!file) continue;
    if (
      /^(index |new file mode|deleted file mode|old mode|new mode|similarity|rename |--- |\+\+\+ )/.test(line)
    )
      continue;
    file.lines.push(line);
  }
  const body = files
    .map((f) => {
      const lines = f.lines
        .map((l) => {
          const cls = l.startsWith('@@')
            ? 'hunk'
            : l.startsWith('+')
              ? 'add'
              : l.startsWith('-')
                ? 'del'
                : 'ctx';
          // Block spans, one per line: no newline between them (it would show as an empty line).
          return `<span class="${cls}">${esc(l) || ' '}</span>`;
        })
        .join('');
      return `<details open class="file"><summary class="file-name">${esc(f.name)}</summary><pre class="diff">${lines}</pre></details>`;
    })
    .join('');
  const note = diff.truncated ? '<p class="note">The diff was cut; the branch has all of it.</p>' : '';
  return `<section><h2>Diff <small>${files.length} file(s)</small></h2>${body}${note}</section>`;
}

function usageSection(task: Task, events: TaskEvent[]): string {
  const roles = new Map<string, { tokensIn: number; tokensOut: number; costUsd: number; calls: number }>();
  for (const e of events) {
    if (e.type !== 'llm') continue;
    const r = roles.get(e.data.role) ?? { tokensIn: 0, tokensOut: 0, costUsd: 0, calls: 0 };
    r.tokensIn += e.data.tokensIn || 0;
    r.tokensOut += e.data.tokensOut || 0;
    r.costUsd += e.data.costUsd || 0;
    r.calls += 1;
    roles.set(e.data.role, r);
  }
  const u = task.usage;
  if (!roles.size && !u.tokensIn && !u.tokensOut && !u.costUsd) return '';
  const rows = [...roles]
    .map(
      ([role, r]) =>
        `<tr><td>${esc(role)}</td><td>${r.calls}</td><td>${r.tokensIn}</td><td>${r.tokensOut}</td><td>${esc(cost(r.costUsd))}</td></tr>`,
    )
    .join('');
  const total = `<tr class="total"><td>total</td><td>${u.llmRequests ?? ''}</td><td>${u.tokensIn ?? 0}</td><td>${u.tokensOut ?? 0}</td><td>${esc(cost(u.costUsd ?? 0))}</td></tr>`;
  return `<section><h2>Usage</h2><table class="usage"><thead><tr><th>role</th><th>calls</th><th>tokens in</th><th>tokens out</th><th>cost</th></tr></thead><tbody>${rows}${total}</tbody></table></section>`;
}
