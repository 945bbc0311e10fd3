import { describe, expect, it } from 'vitest';
import type { TaskProgress } from '../../src/core/index.js';
import {
  CommitStatusWriter,
  commitStateOf,
  commitStatusDescription,
} from '../../src/github/commit-status.js';
import type { RestClient } from '../../src/github/rest-client.js';

function progress(over: Partial<TaskProgress>): TaskProgress {
  return {
    taskId: 't1',
    kind: 'dev',
    prompt: 'p',
    status: 'running',
    phase: 'running',
    createdAt: new Date(),
    startedAt: null,
    finishedAt: null,
    steps: [],
    commandAsks: [],
    activity: [],
    command: null,
    exitCode: null,
    output: '',
    outputTruncated: false,
    branch: null,
    headSha: null,
    prUrl: null,
    previewUrl: null,
    summary: null,
    reply: null,
    error: null,
    errorCode: null,
    durationMs: null,
    costUsd: null,
    lastSeq: 0,
    plan: null,
    planRound: 0,
    waitingUntil: null,
    ...over,
  };
}

describe('the devbot commit status (token mode)', () => {
  it('maps a task to pending, success or failure, in a description GitHub accepts', () => {
    expect(commitStateOf('queued')).toBe('pending');
    expect(commitStateOf('running')).toBe('pending');
    expect(commitStateOf('succeeded')).toBe('success');
    expect(commitStateOf('failed')).toBe('failure');
    expect(commitStateOf('cancelled')).toBe('failure');
    expect(commitStatusDescription(progress({}))).toBe('devbot is working');
    const long = commitStatusDescription(
      progress({ status: 'succeeded', summary: `**Done**: ${'x'.repeat(300)}` }),
    );
    expect(long.length).toBe(140);
    expect(long.startsWith('devbot finished: Done: x')).toBe(true);
  });

  it('posts once per head and state, with the context devbot and the link', async () => {
    const posted: unknown[] = [];
    const client = {
      rest: { repos: { createCommitStatus: async (p: unknown) => void posted.push(p) } },
    } as unknown as RestClient;
    const writer = new CommitStatusWriter();
    const where = { owner: 'acme', repo: 'app' };
    await writer.write(client, where, progress({}), 'https://devbot.example/t1');
    expect(posted).toHaveLength(0); // nothing pushed yet: no head to put it on
    const sha = 'a'.repeat(40);
    await writer.write(client, where, progress({ headSha: sha }), 'https://devbot.example/t1');
    await writer.write(client, where, progress({ headSha: sha, steps: ['testing'] }), undefined);
    await writer.write(client, where, progress({ headSha: sha, status: 'succeeded' }), undefined);
    expect(posted).toEqual([
      {
        owner: 'acme',
        repo: 'app',
        sha,
        state: 'pending',
        context: 'devbot',
        description: 'devbot is working',
        target_url: 'https://devbot.example/t1',
      },
      {
        owner: 'acme',
        repo: 'app',
        sha,
        state: 'success',
        context: 'devbot',
        description: 'devbot finished',
      },
    ]);
  });
});
