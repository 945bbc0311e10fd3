/**
 * Pull request reviews and review comments on the fake GitHub. What matters to a PR loop:
 * - a review is one object; its inline comments are review comments, each starting a thread
 *   that replies join (`in_reply_to_id` is always the thread's first comment);
 * - a comment must sit on a line of the PR's diff, and carries the hunk down to that line;
 * - REST says nothing about whether a thread is resolved: only GraphQL's `reviewThreads` does
 *   (routes-graphql.ts); a thread is outdated once the head changed the commented file.
 */
import type { FakeGithub, FakeRepoState } from './fake-github.js';
import {
  type Ctx,
  notFound,
  type Reply,
  type RouteDef,
  read,
  route,
  str,
  unprocessable,
  validationFailed,
  write,
} from './fake-github-http.js';
import {
  type FakeUser,
  NOW,
  type PullModel,
  type ReviewCommentModel,
  type ReviewModel,
  type ReviewState,
  reviewJson,
} from './fake-github-models.js';
import { type FileDiff, locate, parseUnifiedDiff } from './pull-diff.js';

export interface SeedReviewInput {
  user: string;
  state?: Exclude<ReviewState, 'PENDING' | 'DISMISSED'>;
  body?: string;
  /** Inline comments, each the first comment of a thread. */
  comments: Array<{
    path: string;
    line: number;
    side?: 'LEFT' | 'RIGHT';
    startLine?: number;
    body: string;
    /** Taken from the PR's diff when left out (then the line must be in the diff). */
    diffHunk?: string;
  }>;
  /** Replies in the threads: `to` is the index of the thread's first comment in `comments`. */
  replies?: Array<{ to: number; user: string; body: string }>;
  /** Indexes (in `comments`) of threads to mark resolved, by the review's author. */
  resolved?: number[];
}

export interface SeededReview {
  review: ReviewModel;
  comments: ReviewCommentModel[];
  replies: ReviewCommentModel[];
}

/** The PR's diff at its head against the merge base with its base branch, parsed. */
export async function pullDiff(gh: FakeGithub, r: FakeRepoState, p: PullModel): Promise<FileDiff[]> {
  await gh.refreshPull(r, p);
  const base = (await gh.refSha(r, p.base)) ?? p.baseSha;
  const text = await gh.git(r, ['diff', '--no-color', '--no-ext-diff', '-U3', `${base}...${p.headSha}`]);
  return parseUnifiedDiff(text);
}

/**
 * Outdated: the commented file differs between the commit the thread was started on and the
 * PR's head (GitHub looks at the hunk around the line; the file is a fair, stricter stand-in).
 */
export async function threadOutdated(
  gh: FakeGithub,
  r: FakeRepoState,
  c: ReviewCommentModel,
): Promise<boolean> {
  const root = c.inReplyTo === null ? c : (r.reviewComments.find((x) => x.id === c.inReplyTo) ?? c);
  const p = gh.pullOf(r, root.pullNumber);
  await gh.refreshPull(r, p);
  if (root.originalCommitId === p.headSha) return false;
  const blob = (sha: string) =>
    gh.git(r, ['rev-parse', '--verify', '--quiet', `${sha}:${root.path}`]).catch(() => '');
  return (await blob(root.originalCommitId)) !== (await blob(p.headSha));
}

/** Records a review of `p` by `user` (submitted now unless PENDING). */
export function newReview(
  gh: FakeGithub,
  r: FakeRepoState,
  p: PullModel,
  user: FakeUser,
  state: ReviewState,
  body: string,
  commitId = p.headSha,
): ReviewModel {
  const review: ReviewModel = {
    id: gh.nextId(),
    pullNumber: p.number,
    user,
    body,
    state,
    commitId,
    submittedAt: state === 'PENDING' ? null : NOW(),
  };
  r.reviews.push(review);
  return review;
}

/**
 * A reply joins the thread of a first comment. GitHub documents replies to replies as not
 * supported, so the fake refuses them rather than guessing a thread.
 */
export function addReply(
  gh: FakeGithub,
  r: FakeRepoState,
  p: PullModel,
  parentId: number,
  body: string,
  user: FakeUser,
): ReviewCommentModel {
  const parent = r.reviewComments.find((c) => c.id === parentId && c.pullNumber === p.number);
  if (!parent) throw new ReviewError(notFound);
  if (parent.inReplyTo !== null)
    throw new ReviewError(
      validationFailed('PullRequestReviewComment', 'Replies to replies are not supported', {
        field: 'in_reply_to',
      }),
    );
  // Each reply made outside a review is a review of its own, in state COMMENTED.
  const review = newReview(gh, r, p, user, 'COMMENTED', '');
  const c: ReviewCommentModel = {
    ...parent,
    id: gh.nextId(),
    reviewId: review.id,
    inReplyTo: parent.id,
    body,
    commitId: p.headSha,
    user,
    createdAt: NOW(),
    updatedAt: NOW(),
  };
  r.reviewComments.push(c);
  return c;
}

class ReviewError extends Error {
  constructor(readonly reply: Reply) {
    super('refused');
  }
}

function inlineComment(
  gh: FakeGithub,
  p: PullModel,
  review: ReviewModel,
  user: FakeUser,
  input: {
    path: string;
    line: number;
    side: 'LEFT' | 'RIGHT';
    startLine: number | null;
    body: string;
    diffHunk: string;
    position: number;
  },
): ReviewCommentModel {
  return {
    id: gh.nextId(),
    pullNumber: p.number,
    reviewId: review.id,
    inReplyTo: null,
    body: input.body,
    path: input.path,
    commitId: review.commitId,
    originalCommitId: review.commitId,
    line: input.line,
    startLine: input.startLine,
    side: input.side,
    startSide: input.startLine === null ? null : input.side,
    subjectType: 'line',
    diffHunk: input.diffHunk,
    position: input.position,
    user,
    createdAt: NOW(),
    updatedAt: NOW(),
  };
}

export async function seedReview(
  gh: FakeGithub,
  r: FakeRepoState,
  pullNumber: number,
  input: SeedReviewInput,
): Promise<SeededReview> {
  const p = gh.pullOf(r, pullNumber);
  const diff = await pullDiff(gh, r, p);
  const user = gh.user(input.user);
  const review = newReview(gh, r, p, user, input.state ?? 'COMMENTED', input.body ?? '');
  const comments = input.comments.map((c) => {
    const side = c.side ?? 'RIGHT';
    const at = locate(diff, c.path, c.line, side);
    if (typeof at === 'string' && c.diffHunk === undefined)
      throw new Error(
        `fake github: ${c.path}:${c.line} (${side}) is not in the diff of #${pullNumber} (${at})`,
      );
    const located = typeof at === 'string' ? { position: 1, diffHunk: c.diffHunk ?? '' } : at;
    const comment = inlineComment(gh, p, review, user, {
      path: c.path,
      line: c.line,
      side,
      startLine: c.startLine ?? null,
      body: c.body,
      diffHunk: c.diffHunk ?? located.diffHunk,
      position: located.position,
    });
    r.reviewComments.push(comment);
    return comment;
  });
  const replies = (input.replies ?? []).map((reply) => {
    const root = comments[reply.to];
    if (!root) throw new Error(`fake github: no seeded comment ${reply.to} to reply to`);
    return addReply(gh, r, p, root.id, reply.body, gh.user(reply.user));
  });
  for (const index of input.resolved ?? []) {
    const root = comments[index];
    if (root) r.resolvedThreads.set(root.id, user);
  }
  return { review, comments, replies };
}

const EVENT_STATE: Record<string, ReviewState> = {
  APPROVE: 'APPROVED',
  REQUEST_CHANGES: 'CHANGES_REQUESTED',
  COMMENT: 'COMMENTED',
};

export function reviewRoutes(gh: FakeGithub): RouteDef[] {
  const api = () => gh.url;
  const web = () => gh.webUrl;
  const pullOf = (ctx: Ctx) => ctx.repo!.pulls.find((x) => x.number === Number(ctx.params['pull_number']));

  /** Pending reviews (and their comments) are visible to their author only, as on GitHub. */
  const visible = (r: FakeRepoState, viewer: FakeUser, reviewId: number | null) => {
    const review = r.reviews.find((x) => x.id === reviewId);
    return review?.state !== 'PENDING' || review.user.login === viewer.login;
  };

  const commentsJson = async (
    r: FakeRepoState,
    list: ReviewCommentModel[],
    schema: 'pull' | 'review',
  ): Promise<Array<Record<string, unknown>>> => {
    const out: Array<Record<string, unknown>> = [];
    for (const c of list) {
      out.push(gh.reviewCommentView(r, c, { outdated: await threadOutdated(gh, r, c), schema }));
    }
    return out;
  };

  const withRefusals = async (work: () => Promise<Reply>): Promise<Reply> => {
    try {
      return await work();
    } catch (err) {
      if (err instanceof ReviewError) return err.reply;
      throw err;
    }
  };

  return [
    route('GET', '/repos/{owner}/{repo}/pulls/{pull_number}/files', read('pull_requests'), async (ctx) => {
      const r = ctx.repo!;
      const p = pullOf(ctx);
      if (!p) return notFound;
      const files = await pullDiff(gh, r, p);
      const web = `${gh.webUrl}/${gh.fullName(r)}`;
      return {
        status: 200,
        body: files.map((file) => {
          const lines = file.hunks.flatMap((h) => h.lines);
          const additions = lines.filter((l) => l.kind === '+').length;
          const deletions = lines.filter((l) => l.kind === '-').length;
          return {
            sha: p.headSha,
            filename: file.path,
            status: file.hunks[0]?.header.startsWith('@@ -0,0 ') ? 'added' : 'modified',
            additions,
            deletions,
            changes: additions + deletions,
            blob_url: `${web}/blob/${p.headSha}/${file.path}`,
            raw_url: `${web}/raw/${p.headSha}/${file.path}`,
            contents_url: `${gh.url}/repos/${gh.fullName(r)}/contents/${file.path}?ref=${p.headSha}`,
            patch: file.hunks.map((h) => h.text.join('\n')).join('\n'),
          };
        }),
      };
    }),

    route('GET', '/repos/{owner}/{repo}/pulls/{pull_number}/comments', read('pull_requests'), async (ctx) => {
      const r = ctx.repo!;
      const p = pullOf(ctx);
      if (!p) return notFound;
      const viewer = gh.callerOf(ctx.auth);
      const list = r.reviewComments.filter(
        (c) => c.pullNumber === p.number && visible(r, viewer, c.reviewId),
      );
      return { status: 200, body: await commentsJson(r, list, 'pull') };
    }),

    route('GET', '/repos/{owner}/{repo}/pulls/comments/{comment_id}', read('pull_requests'), async (ctx) => {
      const r = ctx.repo!;
      const c = r.reviewComments.find((x) => x.id === Number(ctx.params['comment_id']));
      if (!c || !visible(r, gh.callerOf(ctx.auth), c.reviewId)) return notFound;
      return { status: 200, body: (await commentsJson(r, [c], 'pull'))[0] };
    }),

    route(
      'POST',
      '/repos/{owner}/{repo}/pulls/{pull_number}/comments',
      write('pull_requests'),
      (ctx) =>
        withRefusals(async () => {
          const r = ctx.repo!;
          const p = pullOf(ctx);
          if (!p) return notFound;
          const body = str(ctx.body, 'body') ?? '';
          const user = gh.callerOf(ctx.auth);
          const replyTo = ctx.body['in_reply_to'];
          if (typeof replyTo === 'number') {
            const c = addReply(gh, r, p, replyTo, body, user);
            return { status: 201, body: (await commentsJson(r, [c], 'pull'))[0] };
          }
          const path = str(ctx.body, 'path') ?? '';
          const commitId = str(ctx.body, 'commit_id') ?? '';
          if (!(await gh.resolveCommit(r, commitId)))
            return validationFailed('PullRequestReviewComment', 'commit_id is not a commit', {
              field: 'commit_id',
              code: 'invalid',
            });
          const line = ctx.body['line'];
          if (typeof line !== 'number')
            return validationFailed('PullRequestReviewComment', 'line is required', {
              field: 'line',
              code: 'missing_field',
            });
          const side = ctx.body['side'] === 'LEFT' ? 'LEFT' : 'RIGHT';
          const at = locate(await pullDiff(gh, r, p), path, line, side);
          if (at === 'no-path')
            return validationFailed(
              'PullRequestReviewComment',
              "pull_request_review_thread.diff_hunk can't be blank",
              { field: 'pull_request_review_thread.diff_hunk' },
            );
          if (at === 'no-line')
            return validationFailed(
              'PullRequestReviewComment',
              'pull_request_review_thread.line must be part of the diff',
              { field: 'pull_request_review_thread.line' },
            );
          // A lone comment is a review of its own, in state COMMENTED.
          const review = newReview(gh, r, p, user, 'COMMENTED', '', commitId);
          const startLine = ctx.body['start_line'];
          const c = inlineComment(gh, p, review, user, {
            path,
            line,
            side,
            startLine: typeof startLine === 'number' ? startLine : null,
            body,
            ...at,
          });
          r.reviewComments.push(c);
          return { status: 201, body: (await commentsJson(r, [c], 'pull'))[0] };
        }),
      // With `in_reply_to` GitHub ignores everything but `body`, though its schema requires more.
      {
        acceptsOffSchema: (body) =>
          typeof body['in_reply_to'] === 'number' && typeof body['body'] === 'string',
      },
    ),

    route(
      'POST',
      '/repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies',
      write('pull_requests'),
      (ctx) =>
        withRefusals(async () => {
          const r = ctx.repo!;
          const p = pullOf(ctx);
          if (!p) return notFound;
          const body = str(ctx.body, 'body') ?? '';
          const c = addReply(gh, r, p, Number(ctx.params['comment_id']), body, gh.callerOf(ctx.auth));
          return { status: 201, body: (await commentsJson(r, [c], 'pull'))[0] };
        }),
    ),

    route('GET', '/repos/{owner}/{repo}/pulls/{pull_number}/reviews', read('pull_requests'), (ctx) => {
      const r = ctx.repo!;
      const p = pullOf(ctx);
      if (!p) return notFound;
      const viewer = gh.callerOf(ctx.auth);
      const list = r.reviews.filter((x) => x.pullNumber === p.number && visible(r, viewer, x.id));
      return {
        status: 200,
        body: list.map((x) => reviewJson(api(), web(), gh.fullName(r), x, gh.association(r, x.user))),
      };
    }),

    route(
      'GET',
      '/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}',
      read('pull_requests'),
      (ctx) => {
        const r = ctx.repo!;
        const review = r.reviews.find(
          (x) =>
            x.id === Number(ctx.params['review_id']) && x.pullNumber === Number(ctx.params['pull_number']),
        );
        if (!review || !visible(r, gh.callerOf(ctx.auth), review.id)) return notFound;
        return {
          status: 200,
          body: reviewJson(api(), web(), gh.fullName(r), review, gh.association(r, review.user)),
        };
      },
    ),

    route(
      'GET',
      '/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/comments',
      read('pull_requests'),
      async (ctx) => {
        const r = ctx.repo!;
        const id = Number(ctx.params['review_id']);
        const review = r.reviews.find(
          (x) => x.id === id && x.pullNumber === Number(ctx.params['pull_number']),
        );
        if (!review || !visible(r, gh.callerOf(ctx.auth), review.id)) return notFound;
        return {
          status: 200,
          body: await commentsJson(
            r,
            r.reviewComments.filter((c) => c.reviewId === id),
            'review',
          ),
        };
      },
    ),

    route(
      'POST',
      '/repos/{owner}/{repo}/pulls/{pull_number}/reviews',
      write('pull_requests'),
      async (ctx) => {
        const r = ctx.repo!;
        const p = pullOf(ctx);
        if (!p) return notFound;
        const user = gh.callerOf(ctx.auth);
        const event = str(ctx.body, 'event');
        const state = event ? EVENT_STATE[event] : 'PENDING';
        if (!state) return unprocessable([`Unknown review event: ${event}`]);
        const body = str(ctx.body, 'body') ?? '';
        const inputs = (ctx.body['comments'] as Array<Record<string, unknown>> | undefined) ?? [];
        if (user.login === p.user.login && state === 'CHANGES_REQUESTED')
          return unprocessable(['Review Can not request changes on your own pull request']);
        if (user.login === p.user.login && state === 'APPROVED')
          return unprocessable(['Review Can not approve your own pull request']);
        if (state === 'CHANGES_REQUESTED' && !body)
          return unprocessable(['Review body is required when requesting changes']);
        if (state === 'COMMENTED' && !body && inputs.length === 0)
          return unprocessable(['Review body or comments are required when commenting']);
        if (
          state === 'PENDING' &&
          r.reviews.some(
            (x) => x.pullNumber === p.number && x.state === 'PENDING' && x.user.login === user.login,
          )
        )
          return unprocessable(['User can only have one pending review per pull request']);
        const commitId = str(ctx.body, 'commit_id') ?? p.headSha;
        // Every comment is checked against the diff before anything is stored: GitHub makes the
        // review with all its comments, or nothing.
        const diff = inputs.length > 0 ? await pullDiff(gh, r, p) : [];
        const located: Array<{ position: number; diffHunk: string }> = [];
        for (const c of inputs) {
          const line = c['line'];
          if (typeof line !== 'number') return unprocessable(['Line could not be resolved']);
          const at = locate(diff, String(c['path']), line, c['side'] === 'LEFT' ? 'LEFT' : 'RIGHT');
          if (at === 'no-path') return unprocessable(['Path could not be resolved']);
          if (at === 'no-line') return unprocessable(['Line could not be resolved']);
          located.push(at);
        }
        const review = newReview(gh, r, p, user, state, body, commitId);
        inputs.forEach((c, i) => {
          const startLine = c['start_line'];
          r.reviewComments.push(
            inlineComment(gh, p, review, user, {
              path: String(c['path']),
              line: c['line'] as number,
              side: c['side'] === 'LEFT' ? 'LEFT' : 'RIGHT',
              startLine: typeof startLine === 'number' ? startLine : null,
              body: String(c['body']),
              ...located[i]!,
            }),
          );
        });
        return {
          status: 200,
          body: reviewJson(api(), web(), gh.fullName(r), review, gh.association(r, user)),
        };
      },
    ),
  ];
}
