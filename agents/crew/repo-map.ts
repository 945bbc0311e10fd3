/**
 * The planner's view of a repository: the file tree with sizes, and the key files that say what the
 * project is and how it is built and tested (read in part).
 */
import type { Sandbox } from '../../src/core/index.js';
import { walk } from '../tools/workspace-tools.js';

const KEY_FILES = [
  'README.md',
  'package.json',
  'pyproject.toml',
  'Makefile',
  'setup.py',
  'Cargo.toml',
  'go.mod',
];
const KEY_FILE_CHARS = 2000;

export async function buildRepoMap(sandbox: Sandbox, maxEntries = 300): Promise<string> {
  const tree = await walk(sandbox, sandbox.workdir, 4, maxEntries);
  const parts = [`File tree (sizes in bytes):\n${tree.join('\n')}`];
  for (const name of KEY_FILES) {
    const text = await readOptional(sandbox, `${sandbox.workdir}/${name}`);
    if (text === null) continue;
    const cut = text.length > KEY_FILE_CHARS ? `${text.slice(0, KEY_FILE_CHARS)}\n[…cut]` : text;
    parts.push(`--- ${name} ---\n${cut}`);
  }
  return parts.join('\n\n');
}

/** The file's text, or null when it does not exist. */
export async function readOptional(sandbox: Sandbox, path: string): Promise<string | null> {
  try {
    return await sandbox.readFile(path);
  } catch {
    return null;
  }
}
