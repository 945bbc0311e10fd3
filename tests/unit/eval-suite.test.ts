/**
 * The shipped eval suite (eval/tasks) is valid: every task loads, its check FAILS on the
 * repository as shipped with the hidden tests laid over it (so a crew that does nothing scores
 * nothing), and PASSES once the reference solution (tests/fixtures/eval-solutions/<id>, kept out
 * of the suite) is applied (so the task can be done, and the hidden tests ask for what the prompt
 * asks). Checks run with `sh -c` in a temporary copy, with a sandbox-like PATH and environment.
 *
 * Also: the loader's errors, and the suite's own rules (one solution per task, hidden files
 * never mentioned in repo/ or the prompt, network and preview tasks set up as documented).
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvalSuiteError, type EvalTask, globToRegExp, loadSuite } from '../../src/eval/load-suite.js';

const SUITE_DIR = fileURLToPath(new URL('../../eval/tasks', import.meta.url));
const SOLUTIONS_DIR = fileURLToPath(new URL('../fixtures/eval-solutions', import.meta.url));
/** In a solution folder: repo-relative paths the solution deletes, one per line (docs/eval.md). */
const DELETE_LIST = '.eval-delete';
const CHECK_TIMEOUT_MS = 30_000;
const SETUP_TIMEOUT_MS = 120_000;
/** Checks running at once: the machine has 2 cores, and a check is mostly process start-up. */
const CONCURRENCY = 4;

// Loaded while collecting: the tasks become one test each.
const tasks = await loadSuite(SUITE_DIR);
let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'devbot-eval-suite-'));
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe('the shipped eval suite', () => {
  it('has at least 24 small tasks with a difficulty, three of them a smoke subset', async () => {
    expect(tasks.length).toBeGreaterThanOrEqual(24);
    const smoke = await loadSuite(SUITE_DIR, { filter: ['smoke-*'] });
    expect(smoke.map((t) => t.id)).toHaveLength(3);
    for (const task of tasks) {
      expect(['easy', 'medium', 'hard'], task.id).toContain(task.difficulty);
      const files = await listFiles(task.repoDir);
      expect(files.length, `${task.id}: files in repo/`).toBeGreaterThanOrEqual(3);
      expect(files.length, `${task.id}: files in repo/`).toBeLessThanOrEqual(40);
      // Left-overs from running a task's tests in place would ship to every crew.
      expect(
        files.filter((f) => /(^|\/)(node_modules|__pycache__)\//.test(f)),
        task.id,
      ).toEqual([]);
    }
  });

  it('has exactly one reference solution per task, holding only changed or added files', async () => {
    const entries = await readdir(SOLUTIONS_DIR, { withFileTypes: true });
    expect(entries.every((e) => e.isDirectory())).toBe(true);
    expect(entries.map((e) => e.name).sort()).toEqual(tasks.map((t) => t.id).sort());
    for (const task of tasks) {
      const solution = join(SOLUTIONS_DIR, task.id);
      const files = (await listFiles(solution)).filter((f) => f !== DELETE_LIST);
      const deletions = await readDeleteList(solution);
      expect(files.length + deletions.length, `${task.id}: an empty solution`).toBeGreaterThan(0);
      for (const file of files) {
        const before = await readFile(join(task.repoDir, file)).catch(() => null);
        const after = await readFile(join(solution, file));
        expect(before === null || !before.equals(after), `${task.id}: ${file} is unchanged`).toBe(true);
      }
      for (const path of deletions) {
        expect(await exists(join(task.repoDir, path)), `${task.id}: ${DELETE_LIST} lists ${path}`).toBe(true);
      }
      // A solution must not smuggle in the hidden tests.
      const hidden = task.hiddenDir ? await listFiles(task.hiddenDir) : [];
      expect(
        files.filter((f) => hidden.includes(f)),
        task.id,
      ).toEqual([]);
    }
  });

  it('never shows a hidden file to the crew: not in repo/, not named in repo/ or the prompt', async () => {
    for (const task of tasks) {
      if (!task.hiddenDir) continue;
      const hidden = await listFiles(task.hiddenDir);
      expect(hidden.length, task.id).toBeGreaterThan(0);
      const repoFiles = await listFiles(task.repoDir);
      const texts = await Promise.all(
        repoFiles.map(async (f) => ({ f, text: await readFile(join(task.repoDir, f), 'utf8') })),
      );
      for (const file of hidden) {
        expect(repoFiles, `${task.id}: hidden/${file} also in repo/`).not.toContain(file);
        const name = file.split('/').pop() ?? file;
        expect(task.prompt, `${task.id}: the prompt names hidden/${file}`).not.toContain(name);
        for (const { f, text } of texts) {
          expect(text.includes(name), `${task.id}: repo/${f} names hidden/${file}`).toBe(false);
        }
      }
      for (const { f, text } of texts) {
        expect(/\bhidden\//.test(text), `${task.id}: repo/${f} mentions hidden/`).toBe(false);
      }
    }
  });

  it('sets up network tasks with a lockfile and preview tasks with a .devbot.yml preview', async () => {
    const network = tasks.filter((t) => t.network);
    expect(network.length).toBeGreaterThanOrEqual(1);
    for (const task of tasks) {
      expect(task.tags.includes('network'), `${task.id}: network tag`).toBe(task.network);
    }
    for (const task of network) {
      const lock = JSON.parse(await readFile(join(task.repoDir, 'package-lock.json'), 'utf8'));
      expect(
        Object.keys(lock.packages ?? {}).filter((p) => p.startsWith('node_modules/')).length,
      ).toBeGreaterThan(0);
      expect(task.setup, task.id).toMatch(/npm ci/);
    }
    const previews = tasks.filter((t) => t.preview);
    expect(previews.length).toBeGreaterThanOrEqual(1);
    for (const task of previews) {
      const config = await readFile(join(task.repoDir, '.devbot.yml'), 'utf8');
      expect(config, task.id).toMatch(/preview:\s*\n\s+command:.+\n\s+port:\s*\d+/);
    }
  });

  describe.concurrent('each task', () => {
    const limit = limiter(CONCURRENCY);
    for (const task of tasks) {
      it(`${task.id}: check fails as shipped and passes with the reference solution`, async (ctx) => {
        if (task.network) {
          const dep = await firstDependency(task);
          const probe = await limit(() => runShell(`npm view ${dep} version`, scratch, 30_000));
          if (probe.code !== 0) ctx.skip(`the npm registry is unreachable (npm view ${dep} version failed)`);
        }
        const shipped = await limit(() => runTask(task, false));
        expect(shipped.timedOut, `${task.id} as shipped: the check hung\n${shipped.output}`).toBe(false);
        expect(shipped.code, `${task.id} as shipped: the check passed, so the task is broken`).not.toBe(0);

        const solved = await limit(() => runTask(task, true));
        expect(solved.code, `${task.id} with the reference solution:\n${solved.output}`).toBe(0);
      }, 240_000);
    }
  });
});

describe('loadSuite', () => {
  const validTask = [
    'prompt: |',
    '  Please fix the greeting.',
    'check: node --test',
    'difficulty: easy',
    '',
  ].join('\n');

  async function makeSuite(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(scratch, 'suite-'));
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    return dir;
  }

  async function loadError(dir: string, filter?: string[]): Promise<EvalSuiteError> {
    const err = await loadSuite(dir, filter ? { filter } : {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EvalSuiteError);
    return err as EvalSuiteError;
  }

  it('reads a task with its defaults', async () => {
    const dir = await makeSuite({ 'greet/task.yml': validTask, 'greet/repo/index.js': '' });
    const [task] = await loadSuite(dir);
    expect(task).toEqual({
      id: 'greet',
      dir: join(dir, 'greet'),
      repoDir: join(dir, 'greet', 'repo'),
      hiddenDir: null,
      prompt: 'Please fix the greeting.',
      check: 'node --test',
      timeoutSeconds: 600,
      tags: [],
      difficulty: 'easy',
      network: false,
    });
  });

  it('reads every optional field', async () => {
    const dir = await makeSuite({
      'site/task.yml': [
        validTask,
        'setup: npm ci',
        'timeout: 120',
        'tags: [html, network]',
        'network: true',
        'preview:',
        '  contains: Opening hours',
      ].join('\n'),
      'site/repo/index.html': '',
      'site/hidden/checks/test_page.py': '',
    });
    const [task] = await loadSuite(dir);
    expect(task).toMatchObject({
      hiddenDir: join(dir, 'site', 'hidden'),
      setup: 'npm ci',
      timeoutSeconds: 120,
      tags: ['html', 'network'],
      network: true,
      preview: { path: '/', contains: 'Opening hours' },
    });
  });

  it('names the file and the field when the prompt is missing', async () => {
    const dir = await makeSuite({
      'no-prompt/task.yml': 'check: node --test\ndifficulty: easy\n',
      'no-prompt/repo/a.js': '',
    });
    const err = await loadError(dir);
    expect(err.problems).toEqual([`${join(dir, 'no-prompt', 'task.yml')} line 1: prompt: required`]);
    expect(err.message).toContain('no-prompt/task.yml line 1: prompt: required');
  });

  it('names the line of a bad timeout', async () => {
    const dir = await makeSuite({
      'slow/task.yml': `${validTask}timeout: -5\n`,
      'slow/repo/a.js': '',
      'words/task.yml': `${validTask}timeout: ten minutes\n`,
      'words/repo/a.js': '',
    });
    const err = await loadError(dir);
    expect(err.problems).toHaveLength(2);
    expect(err.problems[0]).toMatch(/slow\/task\.yml line 5: timeout: .*>=\s*1/);
    expect(err.problems[1]).toMatch(/words\/task\.yml line 5: timeout: .*expected number/);
  });

  it('refuses an unknown key, naming it and its line', async () => {
    const dir = await makeSuite({
      'typo/task.yml': `${validTask}tiemout: 30\n`,
      'typo/repo/a.js': '',
    });
    const err = await loadError(dir);
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatch(
      /typo\/task\.yml line 5: tiemout: unknown key \(allowed: prompt, check, .*timeout/,
    );
  });

  it('reports bad YAML, a bad difficulty, a missing task.yml and a missing repo/ all at once', async () => {
    const dir = await makeSuite({
      'bad-yaml/task.yml': 'prompt: [unclosed\n',
      'bad-yaml/repo/a.js': '',
      'hard-ish/task.yml': validTask.replace('easy', 'tricky'),
      'hard-ish/repo/a.js': '',
      'no-file/repo/a.js': '',
      'no-repo/task.yml': validTask,
    });
    const err = await loadError(dir);
    expect(err.problems).toHaveLength(4);
    expect(err.problems[0]).toMatch(/bad-yaml\/task\.yml line \d+: not valid YAML/);
    expect(err.problems[1]).toMatch(/hard-ish\/task\.yml line 4: difficulty: .*"easy"\|"medium"\|"hard"/);
    expect(err.problems[2]).toMatch(/no-file\/task\.yml: missing/);
    expect(err.problems[3]).toMatch(/no-repo\/repo: missing/);
  });

  it('keeps the tasks a glob-ish filter matches, and refuses a pattern that matches none', async () => {
    const files: Record<string, string> = {};
    for (const id of ['smoke-a', 'smoke-b', 'py-x', 'js-y']) {
      files[`${id}/task.yml`] = validTask;
      files[`${id}/repo/a`] = '';
    }
    const dir = await makeSuite(files);
    expect((await loadSuite(dir, { filter: ['smoke-*'] })).map((t) => t.id)).toEqual(['smoke-a', 'smoke-b']);
    expect((await loadSuite(dir, { filter: ['??-?', 'smoke-b'] })).map((t) => t.id)).toEqual([
      'js-y',
      'py-x',
      'smoke-b',
    ]);
    expect((await loadSuite(dir, { filter: ['py-x'] })).map((t) => t.id)).toEqual(['py-x']);
    const err = await loadError(dir, ['smoke-*', 'go-*']);
    expect(err.problems).toEqual([`no task in ${dir} matches 'go-*'`]);
    // Only the matched tasks are validated: a broken task elsewhere does not block a smoke run.
    await writeFile(join(dir, 'py-x', 'task.yml'), 'nonsense: true\n');
    expect(await loadSuite(dir, { filter: ['smoke-*'] })).toHaveLength(2);
  });

  it('treats only * and ? as wildcards', () => {
    expect(globToRegExp('smoke-*').test('smoke-js-slugify')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
    expect(globToRegExp('js-?').test('js-ab')).toBe(false);
  });
});

interface RunResult {
  code: number | null;
  timedOut: boolean;
  /** The last few kilobytes of stdout and stderr, for failure messages. */
  output: string;
}

/** Copies the task's repo/ (plus the reference solution) and hidden/ into a temp dir, runs setup and check. */
async function runTask(task: EvalTask, solved: boolean): Promise<RunResult> {
  const work = await mkdtemp(join(scratch, `${task.id}-${solved ? 'solved' : 'shipped'}-`));
  try {
    await cp(task.repoDir, work, { recursive: true });
    if (solved) {
      const solution = join(SOLUTIONS_DIR, task.id);
      await cp(solution, work, { recursive: true, filter: (src) => relative(solution, src) !== DELETE_LIST });
      for (const path of await readDeleteList(solution)) await rm(join(work, path), { recursive: true });
    }
    if (task.hiddenDir) await cp(task.hiddenDir, work, { recursive: true });
    if (task.setup) {
      const setup = await runShell(task.setup, work, SETUP_TIMEOUT_MS);
      if (setup.code !== 0) return { ...setup, output: `setup failed: ${task.setup}\n${setup.output}` };
    }
    return await runShell(task.check, work, CHECK_TIMEOUT_MS);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * `sh -c command` in `cwd` with the sandbox's PATH and a minimal environment (no NODE_ENV, no
 * VITEST, no NODE_OPTIONS leaking in from the test runner). The whole process group is killed at
 * the end, so a server a check forgot to stop does not outlive it.
 */
function runShell(command: string, cwd: string, timeoutMs: number): Promise<RunResult> {
  const path = [...new Set([dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'])].join(':');
  const env = {
    PATH: path,
    HOME: process.env['HOME'] ?? tmpdir(),
    LANG: 'C.UTF-8',
    TMPDIR: tmpdir(),
    PYTHONDONTWRITEBYTECODE: '1',
  };
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-6000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    };
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      killGroup();
      resolve({ code, timedOut, output });
    });
  });
}

async function readDeleteList(solutionDir: string): Promise<string[]> {
  const text = await readFile(join(solutionDir, DELETE_LIST), 'utf8').catch(() => '');
  const paths = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  for (const path of paths) {
    const clean = normalize(path);
    if (isAbsolute(clean) || clean.startsWith(`..${sep}`) || clean === '..') {
      throw new Error(`${join(solutionDir, DELETE_LIST)}: ${path} is not inside the repository`);
    }
  }
  return paths;
}

/** Every file under `dir`, relative and with `/` separators, sorted. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function firstDependency(task: EvalTask): Promise<string> {
  const pkg = JSON.parse(await readFile(join(task.repoDir, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const [dep] = Object.keys(pkg.dependencies ?? {});
  if (!dep) throw new Error(`${task.id}: a network task without a dependency in package.json`);
  return dep;
}

/** At most `n` of the returned function's jobs run at once; the rest wait their turn. */
function limiter(n: number): <T>(job: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (job) => {
    // A finishing job hands its slot straight to the next waiter, so `active` never exceeds n.
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    else active += 1;
    try {
      return await job();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active -= 1;
    }
  };
}
