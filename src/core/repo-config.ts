/**
 * `.devbot.yml`: how a repository wants devbot to work on it. Validated with zod; a bad file is
 * reported with the line and what is wrong, so the user can fix it.
 *
 *   setup: npm ci                 # string or list, run once before the first check
 *   test: npm test                # string or list
 *   lint: npm run lint            # string or list
 *   preview: { command: npm run dev, port: 5173 }
 *   max_rounds: 3                 # coder <-> executor rounds
 *   network: false                # turn network off for this repo (the operator's policy turns it on)
 *   allow_workflow_changes: false # whether .github/workflows/ may be changed
 *   approval: plan                # stop after planning until a person approves; `commands`: risky
 *                                 # commands ask first; both: [plan, commands]; default: none
 *   approve_commands: make deploy # more commands that ask (globs, `*` = any text), with `commands`
 */
import { isNode, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { APPROVAL_MODES } from './approval.js';
import { BadInputError } from './errors.js';

const commands = z
  .union([z.string().min(1), z.array(z.string().min(1))])
  .transform((v) => (Array.isArray(v) ? v : [v]));

export const repoConfigSchema = z.strictObject({
  setup: commands.optional(),
  test: commands.optional(),
  lint: commands.optional(),
  preview: z
    .strictObject({
      command: z.string().min(1),
      port: z.number().int().min(1).max(65535),
    })
    .optional(),
  max_rounds: z.number().int().min(1).max(10).optional(),
  network: z.boolean().optional(),
  allow_workflow_changes: z.boolean().default(false),
  /** Overrides the deployment's DEVBOT_APPROVAL for this repository. */
  approval: z
    .union([z.enum(APPROVAL_MODES), z.array(z.enum(APPROVAL_MODES))])
    .transform((v) => (Array.isArray(v) ? v : [v]).filter((m) => m !== 'none'))
    .optional(),
  /** Commands that ask for approval beside the risk policy's (with `approval: commands`). */
  approve_commands: commands.optional(),
});

/** A parsed `.devbot.yml`; a config built by hand may leave out what has a default. */
export type RepoConfig = Omit<z.infer<typeof repoConfigSchema>, 'allow_workflow_changes'> & {
  allow_workflow_changes?: boolean;
};

export const REPO_CONFIG_FILE = '.devbot.yml';

export type RepoConfigResult = { ok: true; config: RepoConfig } | { ok: false; error: string };

export function parseRepoConfig(text: string, file = REPO_CONFIG_FILE): RepoConfigResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const line = lineCounter.linePos(yamlError.pos[0]).line;
    return { ok: false, error: `${file} line ${line}: not valid YAML (${yamlError.message.split('\n')[0]})` };
  }
  const data = doc.toJS() ?? {};
  const parsed = repoConfigSchema.safeParse(data);
  if (parsed.success) return { ok: true, config: parsed.data };
  const problems = parsed.error.issues.map((issue) => {
    const base = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    // An unknown key is reported at the key itself.
    const path = issue.code === 'unrecognized_keys' && issue.keys[0] ? [...base, issue.keys[0]] : base;
    // Point at the deepest node that exists (an unknown key points at its parent mapping).
    let line: number | null = null;
    for (let n = path.length; n >= 0 && line === null; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) line = lineCounter.linePos(node.range[0]).line;
    }
    const where = base.length > 0 ? base.join('.') : '(top level)';
    return `${file}${line ? ` line ${line}` : ''}: ${where}: ${issue.message}`;
  });
  return { ok: false, error: problems.join('\n') };
}

/** Throws BadInputError (shown to the user) for a bad file; an absent file is an empty config. */
export function requireRepoConfig(text: string | null): RepoConfig {
  if (text === null) return repoConfigSchema.parse({});
  const result = parseRepoConfig(text);
  if (!result.ok)
    throw new BadInputError(`the repository's ${REPO_CONFIG_FILE} is invalid:\n${result.error}`);
  return result.config;
}
