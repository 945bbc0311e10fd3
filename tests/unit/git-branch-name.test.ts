import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { branchName, slugify } from '../../src/core/branch-name.js';

function validRef(name: string): boolean {
  try {
    execFileSync('git', ['check-ref-format', `refs/heads/${name}`]);
    return true;
  } catch {
    return false;
  }
}

describe('branchName', () => {
  it('is devbot/<issue-number>-<slug of the title>', () => {
    expect(branchName(12, 'Add a dark-mode toggle!')).toBe('devbot/12-add-a-dark-mode-toggle');
  });
  it('uses the task id when there is no issue', () => {
    expect(branchName('3f2a9c1b', 'Fix login')).toBe('devbot/3f2a9c1b-fix-login');
  });
  it('keeps slugs short, ASCII and cut at a word boundary', () => {
    const slug = slugify('Ünïcödé title with a very long explanation of what should happen next in the app');
    expect(slug.length).toBeLessThanOrEqual(40);
    expect(slug).toMatch(/^[a-z0-9-]+$/);
    expect(slug.endsWith('-')).toBe(false);
    expect(slug.startsWith('unicode-title')).toBe(true);
  });
  it('always yields a valid git ref, whatever the title', () => {
    for (const title of ['', '..', '~^:?*[\\', 'a..b', '@{x}', '🔥🔥', '  spaces  ', 'x.lock', '-leading'])
      expect(validRef(branchName(1, title)), title).toBe(true);
    expect(branchName(1, '🔥')).toBe('devbot/1');
  });
});
