import { posix } from 'node:path';
import { ToolError } from '../llm/tool.js';

/**
 * Resolves a path the model gave (relative to the workspace, or absolute) and refuses anything that
 * lands outside the sandbox workspace, before the sandbox is even asked.
 */
export function resolveWorkspacePath(workdir: string, path: string): string {
  const root = posix.normalize(workdir).replace(/\/+$/, '') || '/';
  const trimmed = path.trim();
  if (trimmed.includes('\0')) throw new ToolError('refused: the path contains a NUL byte');
  const absolute = posix.normalize(posix.isAbsolute(trimmed) ? trimmed : posix.join(root, trimmed || '.'));
  const clean = absolute.length > 1 ? absolute.replace(/\/+$/, '') : absolute;
  if (clean !== root && !clean.startsWith(`${root}/`))
    throw new ToolError(
      `refused: ${path} is outside the workspace ${root}; only paths inside it can be used`,
    );
  return clean;
}

/** The workspace-relative form of an absolute workspace path ("." for the root). */
export function relativeToWorkspace(workdir: string, absolute: string): string {
  return posix.relative(posix.normalize(workdir), absolute) || '.';
}
