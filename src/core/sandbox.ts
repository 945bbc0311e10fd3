/**
 * The Sandbox port (DESIGN.md §4). Every provider (local bubblewrap, E2B) implements it and passes
 * the shared contract suite in sandbox/contract.ts. Secrets never enter a sandbox.
 */

export interface ExecOptions {
  /** Working directory inside the sandbox; defaults to the workspace root. */
  cwd?: string;
  /** Extra environment for the command. Never host secrets. */
  env?: Record<string, string>;
  /** Kill the whole process tree after this many ms. Provider default applies when unset. */
  timeoutMs?: number;
  /** Called with output chunks as they arrive. */
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  /** Aborting kills the command's process tree. */
  signal?: AbortSignal;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** True when output went over the cap and was cut (a marker is appended to the text). */
  truncated: boolean;
  timedOut: boolean;
  durationMs: number;
}

export interface BackgroundProcess {
  readonly id: string;
  /** Resolves when the process ends. */
  readonly done: Promise<ExecResult>;
  kill(): Promise<void>;
}

export interface FileEntry {
  name: string;
  path: string;
  type: 'file' | 'dir';
  size: number;
}

export interface Sandbox {
  readonly id: string;
  readonly provider: string;
  /** Absolute path of the workspace inside the sandbox (e.g. /workspace). */
  readonly workdir: string;
  /** Whether commands can reach the network (through the provider's policy). Unset: no. */
  readonly network?: boolean;
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Starts a long-running command (a dev server) and returns at once. */
  execBackground(command: string, options?: ExecOptions): Promise<BackgroundProcess>;
  readFile(path: string): Promise<string>;
  writeFile(path: string, content: string): Promise<void>;
  listFiles(path: string): Promise<FileEntry[]>;
  /** Makes a port inside the sandbox reachable; returns the public URL. */
  exposePort(port: number): Promise<string>;
  /** Keeps a cloud sandbox alive for another `ms`. */
  keepAlive?(ms: number): Promise<void>;
  /** Kills every process and frees resources. Safe to call twice. */
  close(): Promise<void>;
}

export interface SandboxCreateOptions {
  /** Tags the sandbox (E2B metadata; the local provider names its dirs after it). */
  taskId: string;
  /** Host directory to copy into the workspace at start. */
  seedDir?: string;
  /** Allow outbound network (through the provider's policy). Default false. */
  network?: boolean;
  timeoutMs?: number;
  /** Keep the workspace when closed so `connect(id)` can reattach (a chat's sandbox). */
  persistent?: boolean;
}

export interface SandboxProvider {
  readonly name: string;
  create(options: SandboxCreateOptions): Promise<Sandbox>;
  /** Reattach to a persistent sandbox (a chat's) by id, if it still exists. */
  connect?(id: string): Promise<Sandbox | null>;
  /**
   * Deletes a sandbox for good, persistent or not: its processes are killed and its workspace
   * removed. Unknown or already deleted ids are not an error. (A chat's /reset, the retention sweep.)
   */
  destroy?(id: string): Promise<void>;
  /**
   * Kills sandboxes whose task has ended (cloud sandboxes can outlive a crashed worker); returns
   * the ids it killed. Providers whose sandboxes die with the process need not implement it.
   * `isOwnerAlive` says whether the process that created a sandbox still runs (split roles: a
   * worker holding a preview after its task); a live owner's sandboxes are left alone.
   */
  reap?(
    isTaskFinished: (taskId: string) => Promise<boolean>,
    isOwnerAlive?: (owner: string) => Promise<boolean>,
  ): Promise<string[]>;
  /** Checks the provider can run here (bwrap installed, API key set); throws UnavailableError. */
  check(): Promise<void>;
  close(): Promise<void>;
}
