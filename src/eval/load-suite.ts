/**
 * Reads an eval suite: one folder per task, each with a `task.yml`, the repository the crew starts
 * from (`repo/`) and the hidden tests laid over the crew's result before scoring (`hidden/`).
 * The format is documented in docs/eval.md. Every problem of every task is reported at once, each
 * naming the file, the line and the field, so a user adding tasks fixes them in one pass.
 *
 * Imports only node:*, yaml and zod: the suite format must not depend on the rest of devbot.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';

export const TASK_FILE = 'task.yml';
export const DEFAULT_TIMEOUT_SECONDS = 600;

/** One task.yml. Unknown keys are errors: a typo must not silently drop a setting. */
export const taskFileSchema = z.strictObject({
  /** The request as a user would write it: an issue body. */
  prompt: z.string().trim().min(1, 'must not be empty'),
  /** The command that scores the crew's result (`sh -c`, cwd the tree with hidden/ laid over it). */
  check: z.string().trim().min(1, 'must not be empty'),
  /** Run before `check` in the same place (e.g. `npm ci`); its failure is an error, not a fail. */
  setup: z.string().trim().min(1, 'must not be empty').optional(),
  /** Seconds for the crew and the check together. */
  timeout: z.number().int().min(1).max(7200).default(DEFAULT_TIMEOUT_SECONDS),
  tags: z
    .array(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'tags are lower-case words joined by -'))
    .default([]),
  difficulty: z.enum(['easy', 'medium', 'hard']),
  /** The task needs the package registry (a dependency from the lockfile). */
  network: z.boolean().default(false),
  /** The crew's preview (from the repo's .devbot.yml) must serve `path`, containing `contains`. */
  preview: z
    .strictObject({
      path: z.string().startsWith('/').default('/'),
      contains: z.string().min(1).optional(),
    })
    .optional(),
});

export type TaskFile = z.infer<typeof taskFileSchema>;
export type Difficulty = TaskFile['difficulty'];

export interface EvalTask {
  /** The task's folder name. */
  id: string;
  /** Absolute path of the task's folder. */
  dir: string;
  /** `<dir>/repo`: the repository as the crew first sees it. */
  repoDir: string;
  /** `<dir>/hidden`, or null when the task has no hidden files. */
  hiddenDir: string | null;
  prompt: string;
  check: string;
  setup?: string;
  timeoutSeconds: number;
  tags: string[];
  difficulty: Difficulty;
  network: boolean;
  preview?: { path: string; contains?: string };
}

export interface LoadSuiteOptions {
  /** Task ids or glob-ish patterns (`*` any characters, `?` one); a task is kept if any matches. */
  filter?: readonly string[];
}

/** The suite cannot be used as it is; `problems` lists each one, "file: field: what". */
export class EvalSuiteError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(
      problems.length === 1
        ? `eval suite: ${problems[0]}`
        : `eval suite: ${problems.length} problems:\n${problems.map((p) => `- ${p}`).join('\n')}`,
    );
    this.name = 'EvalSuiteError';
    this.problems = problems;
  }
}

const TASK_ID = /^[a-z0-9][a-z0-9._-]*$/;

/** Loads and validates every task under `dir` (sorted by id), keeping those the filter matches. */
export async function loadSuite(dir: string, options: LoadSuiteOptions = {}): Promise<EvalTask[]> {
  const root = resolve(dir);
  let entries: string[];
  try {
    entries = (await readdir(root, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch (err) {
    throw new EvalSuiteError([`${root}: cannot read the suite folder (${(err as Error).message})`]);
  }

  const filter = options.filter ?? [];
  const matchers = filter.map((pattern) => ({ pattern, regex: globToRegExp(pattern), used: false }));
  const selected = entries.filter((id) => {
    if (matchers.length === 0) return true;
    let keep = false;
    for (const m of matchers) {
      if (m.regex.test(id)) {
        m.used = true;
        keep = true;
      }
    }
    return keep;
  });

  const problems: string[] = [];
  for (const m of matchers) {
    if (!m.used) problems.push(`no task in ${root} matches '${m.pattern}'`);
  }
  if (entries.length === 0) problems.push(`${root}: no task folders`);

  const tasks: EvalTask[] = [];
  for (const id of selected) {
    const result = await loadTask(root, id);
    if ('problems' in result) problems.push(...result.problems);
    else tasks.push(result.task);
  }
  if (problems.length > 0) throw new EvalSuiteError(problems);
  return tasks;
}

async function loadTask(root: string, id: string): Promise<{ task: EvalTask } | { problems: string[] }> {
  const dir = join(root, id);
  const file = join(dir, TASK_FILE);
  const problems: string[] = [];
  if (!TASK_ID.test(id))
    problems.push(`${dir}: task id '${id}' must be lower-case letters, digits, '.', '_' or '-'`);

  const repoDir = join(dir, 'repo');
  if (!(await isDir(repoDir)))
    problems.push(`${repoDir}: missing; every task needs the repository it starts from`);
  const hiddenPath = join(dir, 'hidden');
  const hiddenDir = (await isDir(hiddenPath)) ? hiddenPath : null;
  if (hiddenDir === null && (await exists(hiddenPath))) problems.push(`${hiddenPath}: must be a folder`);

  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (err as Error).message;
    return { problems: [...problems, `${file}: ${why}`] };
  }
  const parsed = parseTaskFile(text, file);
  if (!parsed.ok) return { problems: [...problems, ...parsed.problems] };
  if (problems.length > 0) return { problems };

  const t = parsed.task;
  const task: EvalTask = {
    id,
    dir,
    repoDir,
    hiddenDir,
    prompt: t.prompt,
    check: t.check,
    timeoutSeconds: t.timeout,
    tags: t.tags,
    difficulty: t.difficulty,
    network: t.network,
  };
  if (t.setup !== undefined) task.setup = t.setup;
  if (t.preview !== undefined) {
    task.preview =
      t.preview.contains === undefined
        ? { path: t.preview.path }
        : { path: t.preview.path, contains: t.preview.contains };
  }
  return { task };
}

/** Parses one task.yml; each problem names the file, the line and the field. */
export function parseTaskFile(
  text: string,
  file: string = TASK_FILE,
): { ok: true; task: TaskFile } | { ok: false; problems: string[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const { line } = lineCounter.linePos(yamlError.pos[0]);
    return {
      ok: false,
      problems: [`${file} line ${line}: not valid YAML (${yamlError.message.split('\n')[0]})`],
    };
  }
  const data: unknown = doc.toJS();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return { ok: false, problems: [`${file}: must be a mapping with at least prompt, check and difficulty`] };
  }
  const result = taskFileSchema.safeParse(data);
  if (result.success) return { ok: true, task: result.data };
  const problems = result.error.issues.map((issue) => {
    const base = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    // An unknown key is reported (and located) at the key itself.
    const path = keys[0] !== undefined ? [...base, keys[0]] : base;
    const field = path.length > 0 ? path.join('.') : '(top level)';
    const message =
      keys.length > 0
        ? `unknown key${keys.length > 1 ? `s ${keys.join(', ')}` : ''} (allowed: ${Object.keys(taskFileSchema.shape).join(', ')})`
        : issue.code === 'invalid_type' && valueAt(data, base) === undefined
          ? 'required'
          : issue.message;
    const line = lineOf(doc, lineCounter, path);
    return `${file}${line === null ? '' : ` line ${line}`}: ${field}: ${message}`;
  });
  return { ok: false, problems };
}

function valueAt(data: unknown, path: (string | number)[]): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

/** The line of the deepest node on `path` that exists (a missing key points at its parent). */
function lineOf(doc: ReturnType<typeof parseDocument>, counter: LineCounter, path: (string | number)[]) {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return null;
}

/** `smoke-*` -> /^smoke-.*$/; everything but `*` and `?` is literal. */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
