/**
 * The repository's own settings for devbot, from `.devbot.yml` at its root. Missing file: the
 * defaults. A malformed file fails the task with a message that says what is wrong, rather than
 * silently using defaults the maintainers did not choose.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { BadInputError } from '../core/errors.js';

export const repoConfigSchema = z
  .object({
    /** Lets devbot change files under .github/workflows/ (off by default: CI runs with secrets). */
    allow_workflow_changes: z.boolean().default(false),
    setup: z.union([z.string(), z.array(z.string())]).optional(),
    test: z.union([z.string(), z.array(z.string())]).optional(),
    lint: z.union([z.string(), z.array(z.string())]).optional(),
    preview: z.object({ command: z.string(), port: z.number().int().positive() }).partial().optional(),
  })
  .loose();

export type RepoConfig = z.infer<typeof repoConfigSchema>;

export const REPO_CONFIG_FILE = '.devbot.yml';

export function parseRepoConfig(text: string | null): RepoConfig {
  if (text === null || text.trim() === '') return repoConfigSchema.parse({});
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new BadInputError(`${REPO_CONFIG_FILE} is not valid YAML: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const parsed = repoConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new BadInputError(`${REPO_CONFIG_FILE} is invalid: ${issues}`);
  }
  return parsed.data;
}

export async function readRepoConfig(dir: string): Promise<RepoConfig> {
  let text: string | null = null;
  try {
    text = await readFile(join(dir, REPO_CONFIG_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return parseRepoConfig(text);
}
