/**
 * Branches and pull requests in the fake GitHub's bare repositories, done with git plumbing (no
 * work tree): a person's push, opening a PR from a branch or a fork, following its head, closing
 * or merging it with a real merge commit. As on GitHub, every PR's head is also published as
 * `refs/pull/<n>/head` in the base repository — the only way a fork's commits reach it.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FakeGithub, FakeRepoState } from './fake-github.js';
import { type FakeUser, NOW, type PullModel } from './fake-github-models.js';

export interface PushInput {
  branch: string;
  /** path -> content; null deletes the file. */
  files: Record<string, string | null>;
  /** What to commit on top of (a ref or sha); default: the branch, else the default branch. */
  from?: string;
  message?: string;
  /** Author and committer name (default: the repository's owner). */
  author?: string;
}

const identity = (who: string, committer = who) => ({
  GIT_AUTHOR_NAME: who,
  GIT_AUTHOR_EMAIL: `${who}@users.noreply.example.com`,
  GIT_COMMITTER_NAME: committer,
  GIT_COMMITTER_EMAIL:
    committer === 'GitHub' ? 'noreply@github.com' : `${committer}@users.noreply.example.com`,
});

export async function pushBranch(gh: FakeGithub, r: FakeRepoState, input: PushInput): Promise<string> {
  const parent =
    (await gh.resolveCommit(r, input.from ?? input.branch)) ??
    (await gh.resolveCommit(r, r.model.defaultBranch));
  if (!parent) throw new Error(`fake github: nothing to branch from in ${gh.fullName(r)}`);
  // A private index file, so concurrent pushes to one repository do not share staging.
  const index = join(
    gh.barePath(r.model.owner.login, r.model.name),
    `index-${randomBytes(6).toString('hex')}`,
  );
  const env = { GIT_INDEX_FILE: index };
  try {
    await gh.git(r, ['read-tree', parent], env);
    for (const [path, content] of Object.entries(input.files)) {
      if (content === null) {
        await gh.git(r, ['update-index', '--force-remove', path], env);
        continue;
      }
      const blob = await gh.git(r, ['hash-object', '-w', '--stdin'], env, content);
      await gh.git(r, ['update-index', '--add', '--cacheinfo', `100644,${blob},${path}`], env);
    }
    const tree = await gh.git(r, ['write-tree'], env);
    const who = input.author ?? r.model.owner.login;
    const sha = await gh.git(
      r,
      ['commit-tree', tree, '-p', parent, '-m', input.message ?? 'update'],
      identity(who),
    );
    await gh.git(r, ['update-ref', `refs/heads/${input.branch}`, sha]);
    return sha;
  } finally {
    await rm(index, { force: true });
  }
}

/** `refs/pull/<n>/head` in the base repository, fetched from the fork when the head lives there. */
async function publishPullHead(gh: FakeGithub, base: FakeRepoState, headState: FakeRepoState, p: PullModel) {
  if (headState === base) {
    await gh.git(base, ['update-ref', `refs/pull/${p.number}/head`, p.headSha]);
    return;
  }
  const from = gh.barePath(headState.model.owner.login, headState.model.name);
  await gh.git(base, ['fetch', '-q', from, `+refs/heads/${p.head}:refs/pull/${p.number}/head`]);
}

export async function refreshPull(gh: FakeGithub, r: FakeRepoState, p: PullModel): Promise<void> {
  if (p.state === 'closed') return;
  const headState = gh.findRepo(p.headRepo.owner.login, p.headRepo.name) ?? r;
  const sha = await gh.refSha(headState, p.head);
  if (sha && sha !== p.headSha) {
    p.headSha = sha;
    await publishPullHead(gh, r, headState, p);
  }
}

/**
 * Opens a PR: `head` is `branch` or `owner:branch` (a fork of this repository, or the repository
 * itself). Returns GitHub's validation message when it refuses.
 */
export async function createPull(
  gh: FakeGithub,
  r: FakeRepoState,
  input: { title: string; head: string; base: string; body: string | null; draft: boolean; user: FakeUser },
): Promise<PullModel | string> {
  const colon = input.head.indexOf(':');
  const headOwner = colon >= 0 ? input.head.slice(0, colon) : r.model.owner.login;
  const head = colon >= 0 ? input.head.slice(colon + 1) : input.head;
  const headState =
    headOwner === r.model.owner.login
      ? r
      : gh.allRepos().find((x) => x.model.owner.login === headOwner && x.model.parent?.id === r.model.id);
  if (!headState) return `head ${input.head} does not exist`;
  const headSha = await gh.refSha(headState, head);
  const baseSha = await gh.refSha(r, input.base);
  if (!headSha) return `head ${input.head} does not exist`;
  if (!baseSha) return `base ${input.base} does not exist`;
  if (r.pulls.some((p) => p.state === 'open' && p.head === head && p.headRepo.id === headState.model.id))
    return `A pull request already exists for ${headOwner}:${head}.`;
  const number = r.nextNumber++;
  const now = NOW();
  const pull: PullModel = {
    id: gh.nextId(),
    number,
    title: input.title,
    body: input.body,
    head,
    headSha,
    headRepo: headState.model,
    base: input.base,
    baseSha,
    draft: input.draft,
    user: input.user,
    state: 'open',
    createdAt: now,
    updatedAt: now,
    closedAt: null,
    mergedAt: null,
    mergedBy: null,
    mergeCommitSha: null,
  };
  r.pulls.push(pull);
  r.issues.set(number, {
    id: gh.nextId(),
    number,
    title: input.title,
    body: pull.body,
    user: pull.user,
    state: 'open',
    labels: [],
    isPull: true,
    comments: 0,
    createdAt: now,
    updatedAt: now,
  });
  await publishPullHead(gh, r, headState, pull);
  return pull;
}

/** Closes a PR; `merged` first merges its head into the base branch's current tip. */
export async function closePull(
  gh: FakeGithub,
  r: FakeRepoState,
  p: PullModel,
  by: FakeUser,
  merged: boolean,
): Promise<PullModel> {
  await refreshPull(gh, r, p);
  const at = NOW();
  if (merged) {
    const base = (await gh.refSha(r, p.base)) ?? p.baseSha;
    // merge-tree exits non-zero on conflicts; GitHub would not offer the merge button then.
    const tree = await gh.git(r, ['merge-tree', '--write-tree', base, p.headSha]).catch(() => {
      throw new Error(`fake github: #${p.number} does not merge cleanly`);
    });
    const message = `Merge pull request #${p.number} from ${p.headRepo.owner.login}/${p.head}`;
    const sha = await gh.git(
      r,
      ['commit-tree', tree.split('\n')[0] ?? '', '-p', base, '-p', p.headSha, '-m', message],
      identity(by.login, 'GitHub'),
    );
    await gh.git(r, ['update-ref', `refs/heads/${p.base}`, sha]);
    p.mergedAt = at;
    p.mergedBy = by;
    p.mergeCommitSha = sha;
  }
  p.state = 'closed';
  p.closedAt = at;
  p.updatedAt = at;
  const issue = r.issues.get(p.number);
  if (issue) {
    issue.state = 'closed';
    issue.closedAt = at;
    issue.mergedAt = p.mergedAt;
  }
  return p;
}
