import { describe, expect, it } from 'vitest';
import { publicError } from '../../src/github/progress-comment.js';

describe('what a failed task says on GitHub', () => {
  it('shows errors written for the requester, and hides internal ones behind a generic reason', () => {
    const internal = publicError({
      taskId: 't1',
      errorCode: 'git',
      error:
        'fetching acme/app failed: fatal: unable to access http://10.0.0.5:3000/acme/app.git/ (/var/lib/devbot/git)',
    });
    expect(internal).not.toContain('10.0.0.5');
    expect(internal).not.toContain('/var/lib/devbot');
    expect(internal).toContain("task t1's events");
    expect(publicError({ taskId: 't2', errorCode: 'forbidden', error: '@rita has read access' })).toBe(
      '@rita has read access',
    );
    expect(
      publicError({ taskId: 't3', errorCode: 'error', error: 'connect ECONNREFUSED 127.0.0.1:6379' }),
    ).not.toContain('127.0.0.1');
  });
});
