import { describe, expect, it } from 'vitest';
import {
  ciFailedNotice,
  closedNotice,
  conversationNotice,
  NOTICE_BODY_MAX,
  openedNotice,
  quoteUntrusted,
} from '../../src/github/chat-notices.js';
import { htmlToPlain, visibleLength } from '../../src/telegram/telegram-text.js';

const repository = { full_name: 'acme/shop' };
const devbotPr = {
  number: 7,
  title: 'Add <sum>',
  html_url: 'https://github.test/acme/shop/pull/7',
  user: { login: 'devbot[bot]' },
};

function review(state: string, body: string, user = 'alice', pr: Record<string, unknown> = devbotPr) {
  return {
    name: 'pull_request_review',
    payload: {
      action: 'submitted',
      repository,
      pull_request: pr,
      review: { id: 55, state, body, user: { login: user }, html_url: `${devbotPr.html_url}#r55` },
      sender: { login: user },
    },
  };
}

describe('notices for chats linked to a repository', () => {
  it('a review on one of devbot’s PRs: who, what, and the body as an escaped quote', () => {
    const n = conversationNotice(review('changes_requested', 'Use <b>bold</b> & fix it'), 'devbot[bot]')!;
    expect(n).toMatchObject({ repo: 'acme/shop', prNumber: 7, key: 'link:review:acme/shop:55' });
    expect(n.html).toContain('<a href="https://github.test/acme/shop/pull/7#r55">#7</a>');
    expect(n.html).toContain('Add &lt;sum&gt;');
    expect(n.html).toContain('<b>alice</b> requested changes:');
    expect(n.html).toContain('<blockquote>Use &lt;b&gt;bold&lt;/b&gt; &amp; fix it</blockquote>');
    expect(conversationNotice(review('approved', ''), 'devbot[bot]')!.html).toContain(
      '<b>alice</b> approved.',
    );
  });

  it('nothing for PRs devbot did not open, devbot’s own reviews, or other actions', () => {
    expect(
      conversationNotice(
        review('approved', 'ok', 'alice', { ...devbotPr, user: { login: 'bob' } }),
        'devbot[bot]',
      ),
    ).toBeNull();
    expect(conversationNotice(review('commented', 'mine', 'devbot[bot]'), 'devbot[bot]')).toBeNull();
    const edited = review('approved', 'ok');
    edited.payload.action = 'edited';
    expect(conversationNotice(edited, 'devbot[bot]')).toBeNull();
    expect(
      conversationNotice({ name: 'issues', payload: { action: 'opened', repository } }, 'devbot[bot]'),
    ).toBeNull();
  });

  it('a comment on devbot’s PR (not on an issue, not devbot’s own)', () => {
    const comment = (issue: Record<string, unknown>, user = 'rita') => ({
      name: 'issue_comment',
      payload: {
        action: 'created',
        repository,
        issue,
        comment: {
          id: 9,
          body: 'hi @bob, try /unlink',
          user: { login: user },
          html_url: 'https://github.test/c/9',
        },
      },
    });
    const onPr = { ...devbotPr, pull_request: { url: 'x' } };
    const n = conversationNotice(comment(onPr), 'devbot[bot]')!;
    expect(n.key).toBe('link:comment:acme/shop:9');
    expect(n.html).toContain('<b>rita</b> commented:');
    // Shown as text: no Telegram mention, no tappable command.
    expect(htmlToPlain(n.html)).toContain('hi @\u2060bob, try /\u2060unlink');
    expect(conversationNotice(comment(devbotPr), 'devbot[bot]')).toBeNull();
    expect(conversationNotice(comment(onPr, 'devbot[bot]'), 'devbot[bot]')).toBeNull();
  });

  it('a long body is cut to fit Telegram, never splitting a surrogate pair', () => {
    const body = `${'😀'.repeat(2000)}<script>`;
    const n = conversationNotice(review('commented', body), 'devbot[bot]')!;
    expect(visibleLength(n.html)).toBeLessThan(NOTICE_BODY_MAX + 300);
    expect(visibleLength(n.html)).toBeLessThanOrEqual(4096);
    expect(htmlToPlain(n.html)).toMatch(/😀…$/u);
    expect(n.html).not.toContain('<script>');
    expect(quoteUntrusted('   ')).toBe('');
  });

  it('opened, closed and CI failures', () => {
    expect(openedNotice('acme/shop', devbotPr).html).toContain('devbot opened this pull request.');
    expect(closedNotice('acme/shop', devbotPr, true)).toMatchObject({ key: 'link:closed:acme/shop#7' });
    expect(closedNotice('acme/shop', devbotPr, false).html).toContain('Closed without merging.');
    const ci = ciFailedNotice(
      'acme/shop',
      devbotPr,
      { name: 'CI <x>', headSha: 'abcdef1234', id: 3, source: 'workflow_run' },
      'devbot is trying a fix.',
    );
    expect(ci.key).toBe('link:ci:acme/shop:workflow_run:3');
    expect(ci.html).toContain('CI failed: CI &lt;x&gt; on abcdef1.');
  });
});
