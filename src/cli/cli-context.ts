import type { Env } from '../config/config.js';
import { loadEnvironment } from '../config/env-file.js';

/** Where the CLI writes: the process's stdout and stderr, or a test's buffers. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** What every command gets: its output, the working directory and the environment. */
export interface CliContext extends CliIo {
  readonly cwd: string;
  /**
   * The process environment over `.env` (or DEVBOT_ENV_FILE), read on first use: `--help` and
   * `--version` never read the file, so a broken `.env` cannot hide the help that explains it.
   */
  env(): Env;
  /** The environment if it loads, else the process's alone (for the error boundary itself). */
  envIfLoadable(): Env;
  /** What a command asks the process to exit with when it returns normally (doctor: 1 on FAIL). */
  exitCode: number;
}

export function createCliContext(processEnv: Env, cwd: string, io: CliIo): CliContext {
  let loaded: Env | undefined;
  const env = () => {
    loaded ??= loadEnvironment(processEnv, cwd).env;
    return loaded;
  };
  return {
    cwd,
    out: io.out,
    err: io.err,
    env,
    envIfLoadable() {
      try {
        return env();
      } catch {
        return processEnv;
      }
    },
    exitCode: 0,
  };
}
