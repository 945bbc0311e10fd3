/**
 * The crew's tools over the Sandbox port: list_files, read_file (line ranges), grep, write_file,
 * edit_file (search/replace) and run_command. Every path is confined to the sandbox workspace, and
 * every command passes the command policy first. `readOnly` gives the question answerer's set.
 */

import { z } from 'zod';
import {
  type CommandApprovalRequest,
  type CommandVerdict,
  deniedCommandMessage,
  type ExecResult,
  type Sandbox,
  type TaskContext,
} from '../../src/core/index.js';
import { defineTool, type Tool, ToolError } from '../llm/tool.js';
import { checkCommand } from './command-policy.js';
import {
  assessCommand,
  type CommandRisk,
  describeRisk,
  filesToRead,
  normalizeCommand,
  writtenPaths,
} from './command-risk.js';
import { shellQuote } from './shell-quote.js';
import { relativeToWorkspace, resolveWorkspacePath } from './workspace-path.js';

export interface WorkspaceToolsOptions {
  sandbox: Sandbox;
  readOnly?: boolean;
  /**
   * With `readOnly`: also `run_command` (a question or review may run the tests to find out; the
   * sandbox's changes are thrown away, nothing is committed).
   */
  runCommands?: boolean;
  /** Whether commands may use the network (the task's sandbox policy). */
  network?: boolean;
  /** Paths (workspace-relative) that may not be written, e.g. `.github/workflows/`. */
  protectedPaths?: readonly string[];
  /** Called with the workspace-relative path of every file written. */
  onWrite?: (path: string) => void;
  /** Called after every run_command with the command and its full result. */
  onCommand?: (command: string, result: ExecResult) => void;
  emit?: TaskContext['emit'];
  commandTimeoutMs?: number;
  signal?: AbortSignal;
  /**
   * `approval: commands`: a command the risk policy flags (or that matches `patterns`, the
   * repository's `approve_commands`) runs only once `ask` says it may; a denial is the tool's result.
   */
  commandApproval?: CommandApproval | undefined;
}

export interface CommandApproval {
  ask(request: CommandApprovalRequest): Promise<CommandVerdict>;
  patterns?: readonly string[] | undefined;
  /**
   * Workspace-relative paths written or edited in this task; the tools add what they write (and what
   * a command's text says it writes). Share one set between the tools and the executor.
   */
  changed?: Set<string> | undefined;
  /** Every workspace file counts as changed (a chat's sandbox: nothing in it is a repository's own). */
  everythingChanged?: boolean | undefined;
  /** Told how long a person took to answer (that wait is not the task's wall-time budget). */
  waited?: ((ms: number) => void) | undefined;
}

const SKIP_DIRS = new Set(['.git', 'node_modules', '.venv', '__pycache__', 'dist', 'build', '.next']);
const MAX_READ_LINES = 400;

export function createWorkspaceTools(options: WorkspaceToolsOptions): Tool[] {
  const { sandbox } = options;
  const changed = options.commandApproval?.changed ?? new Set<string>();
  const resolve = (path: string) => resolveWorkspacePath(sandbox.workdir, path);
  const writable = (path: string) => {
    const abs = resolve(path);
    const rel = relativeToWorkspace(sandbox.workdir, abs);
    const blocked = (options.protectedPaths ?? []).find(
      (p) => rel === p.replace(/\/$/, '') || rel.startsWith(p),
    );
    if (blocked)
      throw new ToolError(
        `refused: ${rel} is protected (${blocked}); the repo config does not allow changing it`,
      );
    return { abs, rel };
  };
  const readText = async (abs: string, rel: string) => {
    try {
      return await sandbox.readFile(abs);
    } catch (err) {
      throw new ToolError(`cannot read ${rel}: ${(err as Error).message}`, { cause: err });
    }
  };

  const listFiles = defineTool({
    name: 'list_files',
    description: 'List files and directories under a workspace path (recursive up to `depth`), with sizes.',
    schema: z.object({
      path: z.string().default('.').describe('directory, relative to the repository root'),
      depth: z.number().int().min(1).max(6).default(2),
    }),
    run: async ({ path, depth }) => {
      const lines = await walk(sandbox, resolve(path), depth, 400);
      return lines.length > 0 ? lines.join('\n') : '(empty directory)';
    },
  });

  const readFile = defineTool({
    name: 'read_file',
    description: `Read a text file, optionally a line range (1-based, inclusive). At most ${MAX_READ_LINES} lines per call; lines are numbered.`,
    schema: z.object({
      path: z.string().min(1),
      start_line: z.number().int().min(1).optional(),
      end_line: z.number().int().min(1).optional(),
    }),
    run: async ({ path, start_line, end_line }) => {
      const abs = resolve(path);
      const rel = relativeToWorkspace(sandbox.workdir, abs);
      const lines = (await readText(abs, rel)).split('\n');
      const from = start_line ?? 1;
      const to = Math.min(end_line ?? lines.length, from + MAX_READ_LINES - 1, lines.length);
      if (from > lines.length) throw new ToolError(`${rel} has only ${lines.length} lines`);
      const body = lines
        .slice(from - 1, to)
        .map((line, i) => `${from + i}\t${line}`)
        .join('\n');
      const more = to < lines.length ? `\n[lines ${to + 1}-${lines.length} not shown]` : '';
      return `${rel} (lines ${from}-${to} of ${lines.length})\n${body}${more}`;
    },
  });

  const grep = defineTool({
    name: 'grep',
    description: 'Search file contents with an extended regular expression; returns file:line:text matches.',
    schema: z.object({
      pattern: z.string().min(1),
      path: z.string().default('.'),
      ignore_case: z.boolean().default(false),
    }),
    run: async ({ pattern, path, ignore_case }) => {
      const abs = resolve(path);
      const excludes = [...SKIP_DIRS].map((d) => `--exclude-dir=${d}`).join(' ');
      const command = `grep -rnIE ${ignore_case ? '-i ' : ''}${excludes} -e ${shellQuote(pattern)} ${shellQuote(abs)} | head -n 200`;
      const result = await sandbox.exec(command, { cwd: sandbox.workdir, timeoutMs: 30_000 });
      if (result.stderr.trim() && !result.stdout.trim())
        throw new ToolError(`grep failed: ${result.stderr.trim()}`);
      const root = `${sandbox.workdir.replace(/\/+$/, '')}/`;
      const out = result.stdout.split(root).join('');
      return out.trim() ? out : 'no matches';
    },
  });

  const writeFile = defineTool({
    name: 'write_file',
    description: 'Create or overwrite a file with the given content (parent directories are created).',
    schema: z.object({ path: z.string().min(1), content: z.string() }),
    run: async ({ path, content }) => {
      const { abs, rel } = writable(path);
      await sandbox.writeFile(abs, content);
      changed.add(rel);
      options.onWrite?.(rel);
      return `wrote ${rel} (${content.split('\n').length} lines)`;
    },
  });

  const editFile = defineTool({
    name: 'edit_file',
    description:
      'Replace one exact occurrence of `search` with `replace` in a file. `search` must match exactly once (include surrounding lines to make it unique).',
    schema: z.object({ path: z.string().min(1), search: z.string().min(1), replace: z.string() }),
    run: async ({ path, search, replace }) => {
      const { abs, rel } = writable(path);
      const text = await readText(abs, rel);
      const count = text.split(search).length - 1;
      if (count === 0)
        throw new ToolError(
          `the search text was not found in ${rel}; read the file again and copy the exact text (whitespace included)`,
        );
      if (count > 1)
        throw new ToolError(
          `the search text occurs ${count} times in ${rel}; include more surrounding lines so it matches exactly once`,
        );
      const at = text.indexOf(search);
      await sandbox.writeFile(abs, text.slice(0, at) + replace + text.slice(at + search.length));
      changed.add(rel);
      options.onWrite?.(rel);
      const line = text.slice(0, at).split('\n').length;
      return `edited ${rel} at line ${line}`;
    },
  });

  const runCommand = defineTool({
    name: 'run_command',
    description:
      'Run a shell command in the repository root inside the sandbox and return its exit code and output (tail).',
    schema: z.object({
      command: z.string().min(1),
      timeout_seconds: z.number().int().min(1).max(600).default(120),
    }),
    run: async ({ command, timeout_seconds }) => {
      const refusal = checkCommand(command, { network: options.network ?? false, workdir: sandbox.workdir });
      if (refusal) throw new ToolError(refusal);
      const approval = options.commandApproval;
      if (approval) {
        if (!approval.everythingChanged) recordStart(sandbox, changed);
        const risk = await assessInSandbox(sandbox, command, {
          patterns: approval.patterns ?? [],
          changed,
          everythingChanged: approval.everythingChanged ?? false,
        });
        if (risk.risky) {
          const asked = Date.now();
          const verdict = await approval
            .ask({ command, normalized: normalizeCommand(command), reasons: describeRisk(risk.reasons) })
            .finally(() => approval.waited?.(Date.now() - asked));
          if (!verdict.allowed) throw new ToolError(deniedCommandMessage(command, verdict));
        }
      }
      await options.emit?.('command.started', { command });
      const result = await sandbox.exec(command, {
        cwd: sandbox.workdir,
        timeoutMs: Math.min(timeout_seconds * 1000, options.commandTimeoutMs ?? 600_000),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      await options.emit?.('command.finished', {
        command,
        exitCode: result.exitCode,
        durationMs: Math.round(result.durationMs),
        truncated: result.truncated,
      });
      for (const path of writtenPaths(command, sandbox.workdir)) changed.add(path);
      options.onCommand?.(command, result);
      return formatExec(result);
    },
  });

  if (options.readOnly)
    return options.runCommands ? [listFiles, readFile, grep, runCommand] : [listFiles, readFile, grep];
  return [listFiles, readFile, grep, writeFile, editFile, runCommand];
}

const MAX_POLICY_FILES = 20;
const MAX_POLICY_FILE_BYTES = 256 * 1024;

/**
 * The risk policy over a command and the workspace files it runs (scripts, `package.json` scripts,
 * the Makefile), read from the sandbox now: what runs is what is there when it runs.
 */
export async function assessInSandbox(
  sandbox: Sandbox,
  command: string,
  options: { patterns?: readonly string[]; changed?: Set<string>; everythingChanged?: boolean },
): Promise<CommandRisk> {
  const files = new Map<string, string | null>();
  const changed = options.changed ?? new Set<string>();
  const base = {
    workdir: sandbox.workdir,
    patterns: options.patterns ?? [],
    changed,
    everythingChanged: options.everythingChanged ?? false,
  };
  for (let pass = 0; pass < 4 && files.size < MAX_POLICY_FILES; pass++) {
    const wanted = filesToRead(command, { ...base, files });
    if (wanted.length === 0) break;
    // Files changed by programs (`git apply`, a generator, a commit) are not in the tools' list.
    if (pass === 0 && !base.everythingChanged)
      for (const path of await gitChanges(sandbox, changed)) changed.add(path);
    for (const rel of wanted.slice(0, MAX_POLICY_FILES - files.size)) {
      try {
        const text = await sandbox.readFile(resolveWorkspacePath(sandbox.workdir, rel));
        files.set(rel, text.length > MAX_POLICY_FILE_BYTES ? null : text);
      } catch {
        files.set(rel, null);
      }
    }
  }
  return assessCommand(command, { ...base, files });
}

/** The commit each task's workspace started from, keyed by its set of changed files. */
const startCommits = new WeakMap<Set<string>, Promise<string | null>>();

/** Records the workspace's commit before the task's first command runs (once per task). */
export function recordStart(sandbox: Sandbox, changed: Set<string>): void {
  if (startCommits.has(changed)) return;
  startCommits.set(
    changed,
    sandbox.exec('git rev-parse --verify -q HEAD', { cwd: sandbox.workdir, timeoutMs: 15_000 }).then(
      (r) => (r.exitCode === 0 && /^[0-9a-f]{40,64}$/.test(r.stdout.trim()) ? r.stdout.trim() : null),
      () => null,
    ),
  );
}

/** What git says changed in the workspace since the task started (uncommitted, untracked, committed). */
async function gitChanges(sandbox: Sandbox, changed: Set<string>): Promise<string[]> {
  const start = await startCommits.get(changed);
  const since = start ? `; git diff --name-only --no-renames ${start} HEAD` : '';
  try {
    const r = await sandbox.exec(
      `git status --porcelain --untracked-files=all --no-renames 2>/dev/null | cut -c4-${since} 2>/dev/null`,
      { cwd: sandbox.workdir, timeoutMs: 30_000 },
    );
    return r.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('"'));
  } catch {
    return [];
  }
}

export function formatExec(result: {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}): string {
  const tail = (s: string) => (s.length > 6000 ? `…${s.slice(-6000)}` : s);
  const parts = [`exit code ${result.exitCode}${result.timedOut ? ' (timed out)' : ''}`];
  if (result.stdout.trim()) parts.push(`stdout:\n${tail(result.stdout)}`);
  if (result.stderr.trim()) parts.push(`stderr:\n${tail(result.stderr)}`);
  return parts.join('\n');
}

/** A tree listing with sizes, skipping dependency and VCS directories. */
export async function walk(sandbox: Sandbox, root: string, depth: number, limit: number): Promise<string[]> {
  const out: string[] = [];
  const visit = async (dir: string, level: number): Promise<void> => {
    let entries: Awaited<ReturnType<Sandbox['listFiles']>>;
    try {
      entries = await sandbox.listFiles(dir);
    } catch (err) {
      if (level === 0)
        throw new ToolError(
          `cannot list ${relativeToWorkspace(sandbox.workdir, dir)}: ${(err as Error).message}`,
        );
      return;
    }
    entries.sort((a, b) => a.path.localeCompare(b.path));
    for (const entry of entries) {
      if (out.length >= limit) return;
      const rel = relativeToWorkspace(
        sandbox.workdir,
        entry.path.startsWith('/') ? entry.path : `${dir}/${entry.name}`,
      );
      if (entry.type === 'dir') {
        out.push(`${rel}/`);
        if (level + 1 < depth && !SKIP_DIRS.has(entry.name)) await visit(resolveChild(dir, entry), level + 1);
      } else out.push(`${rel} (${entry.size} B)`);
    }
    if (out.length >= limit && level === 0) out.push(`[listing cut at ${limit} entries]`);
  };
  await visit(root, 0);
  return out;
}

function resolveChild(dir: string, entry: { name: string; path: string }): string {
  return entry.path.startsWith('/') ? entry.path : `${dir.replace(/\/+$/, '')}/${entry.name}`;
}
