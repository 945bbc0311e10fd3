import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/config.js';
import { DEVBOT_COMMANDS } from '../../src/github/commands.js';
import { BOT_COMMANDS } from '../../src/telegram/parse-command.js';

/** README and docs/*.md: relative links resolve, anchors exist, and the env vars they name are real. */
const root = join(import.meta.dirname, '../..');
const docs = [
  'README.md',
  ...readdirSync(join(root, 'docs')).flatMap((f) => (f.endsWith('.md') ? [`docs/${f}`] : [])),
];
const withoutCode = (text: string) => text.replace(/```[\s\S]*?```/g, '');
const read = (file: string) => readFileSync(file, 'utf8');

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, -1, -2 for repeats. */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of withoutCode(read(file)).matchAll(/^#{1,6}\s+(.*)$/gm)) {
    const slug = (m[1] ?? '')
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

describe('docs', () => {
  it('relative links point at files and headings that exist', () => {
    const broken: string[] = [];
    for (const doc of docs) {
      const file = join(root, doc);
      for (const m of withoutCode(read(file)).matchAll(/\]\(([^)\s]+)\)/g)) {
        const link = m[1] ?? '';
        if (/^(https?:|mailto:)/.test(link)) continue;
        const [path, anchor] = link.split('#');
        const target = path ? resolve(dirname(file), path) : file;
        if (!existsSync(target)) broken.push(`${doc}: ${link} (no such file)`);
        else if (anchor && target.endsWith('.md') && !anchors(target).has(anchor))
          broken.push(`${doc}: ${link} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('name only files of the repository that exist', () => {
    // Written by a run (the bench's results), or inside an eval task's repository.
    const notHere = new Set(['bench/results/latest.json', 'tests/run.sh', 'scripts/release.sh']);
    const missing: string[] = [];
    for (const doc of docs)
      for (const m of read(join(root, doc)).matchAll(
        /\b((?:tests|bench|scripts|infra|src|agents|sandbox)\/[\w./-]+\.(?:ts|mjs|sh|yml|json|md))\b/g,
      )) {
        const path = m[1] ?? '';
        if (!notHere.has(path) && !existsSync(join(root, path))) missing.push(`${doc}: ${path}`);
      }
    expect(missing).toEqual([]);
  });

  it('name only environment variables devbot reads', () => {
    const known = new Set(Object.keys(configSchema.shape));
    // Read outside the schema (the env file itself, the tests, the benches) or by docker compose only.
    for (const other of [
      'DEVBOT_ENV_FILE',
      'DEVBOT_TEST_DATABASE_URL',
      'DEVBOT_HTTP_PORT',
      'DEVBOT_BENCH_BACKEND',
    ])
      known.add(other);
    const unknown: string[] = [];
    for (const doc of docs) {
      const text = read(join(root, doc));
      for (const m of text.matchAll(
        /(?<!@\{)\b((?:DEVBOT|GITHUB|TELEGRAM|OPENAI|E2B|LOG|LOKI|REDIS|DATABASE)_[A-Z0-9_]+)\b/g,
      )) {
        const name = m[1] ?? '';
        // Families written with a placeholder: DEVBOT_MODEL_<ROLE>, DEVBOT_BUDGET_*. @{DEVBOT_DATA}
        // is an AppArmor variable.
        if (!known.has(name) && !name.endsWith('_')) unknown.push(`${doc}: ${name}`);
      }
    }
    expect([...new Set(unknown)]).toEqual([]);
  });

  it("README's command tables list every Telegram command (the bot's menu and /help) and every /devbot command", () => {
    const readme = read(join(root, 'README.md'));
    const section = (heading: string) => {
      const start = readme.indexOf(`\n${heading}\n`);
      expect(start).toBeGreaterThan(0);
      const end = readme.indexOf('\n## ', start + heading.length + 2);
      return readme.slice(start, end === -1 ? undefined : end);
    };
    const telegramRows = section('## Telegram')
      .split('\n')
      .filter((l) => l.startsWith('| `/'));
    const missingTelegram = BOT_COMMANDS.map((c) => `/${c.command}`).filter(
      (cmd) => !telegramRows.some((row) => new RegExp(`\`${cmd}[\` ]`).test(row)),
    );
    const githubRows = section('### On GitHub, in either mode')
      .split('\n')
      .filter((l) => l.startsWith('| `'));
    const missingGithub = Object.keys(DEVBOT_COMMANDS).filter(
      (cmd) => !githubRows.some((row) => new RegExp(`^\\| (\`[^|]*, )?\`${cmd}[\` ]`).test(row)),
    );
    expect({ missingTelegram, missingGithub }).toEqual({ missingTelegram: [], missingGithub: [] });
  });
});
