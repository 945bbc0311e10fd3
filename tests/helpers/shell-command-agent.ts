import { z } from 'zod';
import {
  type AgentResult,
  BadInputError,
  type RunAgent,
  TASK_INPUT_SCHEMAS,
  type TaskInput,
} from '../../src/core/index.js';

/**
 * A scripted agent for the repo task handler: runs one shell command in the sandbox
 * (`task.input.command` by default) and reports what it did. No LLM needed.
 */
export function shellCommandAgent(
  commandFor: (input: TaskInput, kind: string) => string | undefined = (input) => input.command,
): RunAgent {
  return async (ctx, sandbox, repo): Promise<AgentResult> => {
    const command = commandFor(ctx.task.input, repo.kind);
    if (!command) throw new BadInputError('this repo task has no command to run (task.input.command)');
    await ctx.emit('command.started', { command });
    // Output events are appended in order, one at a time, and all before command.finished.
    let outputs = Promise.resolve();
    const forward = (stream: 'stdout' | 'stderr') => (text: string) => {
      outputs = outputs.then(() => ctx.emit('output', { stream, text }).then(() => {})).catch(() => {});
    };
    const result = await sandbox.exec(command, {
      cwd: sandbox.workdir,
      signal: ctx.signal,
      onStdout: forward('stdout'),
      onStderr: forward('stderr'),
    });
    await outputs;
    await ctx.emit('command.finished', {
      command,
      exitCode: result.exitCode,
      durationMs: result.durationMs,
      truncated: result.truncated,
    });
    if (result.exitCode !== 0)
      throw new BadInputError(`\`${command}\` exited with ${result.exitCode}: ${result.stderr.slice(-500)}`);
    return { summary: `Ran \`${command}\` in ${repo.fullName}.` };
  };
}

/** The input the scripted agent reads (`command`), registered with the repo task handler it runs in. */
export const SHELL_COMMAND_AGENT_INPUT = {
  dev: TASK_INPUT_SCHEMAS.dev.extend({ command: z.string().min(1).optional() }),
  followup: TASK_INPUT_SCHEMAS.followup.extend({ command: z.string().min(1).optional() }),
};
