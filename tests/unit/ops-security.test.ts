import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, repoFile, repoYaml, run, which } from './ops-helpers.js';

const PROFILE = 'infra/apparmor/devbot-sandbox';

/** The body of one `profile NAME ... { ... }` block. */
function profileBody(text: string, name: string): string {
  const start = text.indexOf(`profile ${name} `);
  if (start < 0) throw new Error(`no profile ${name}`);
  return text.slice(start, text.indexOf('\n}', start));
}

describe('AppArmor sandbox profile', () => {
  const text = repoFile(PROFILE);

  it('denies IP networking in the default profile and allows it only in the -net one', () => {
    const strict = profileBody(text, 'devbot-sandbox');
    for (const rule of ['deny network inet,', 'deny network inet6,', 'deny network raw,'])
      expect(strict).toContain(rule);
    expect(strict).not.toMatch(/^\s*network inet/m);
    expect(profileBody(text, 'devbot-sandbox-net')).toMatch(/^\s*network inet stream,/m);
  });

  it('allows writes only to the workspace, /tmp and devices, and denies the host secrets', () => {
    for (const name of ['devbot-sandbox', 'devbot-sandbox-net']) {
      const body = profileBody(text, name);
      const writable = [...body.matchAll(/^\s*(?:owner\s+)?(\/\S*)\s+([a-z]+),$/gm)]
        .filter(([, , perms]) => perms?.includes('w'))
        .map(([, path]) => path ?? '');
      for (const path of writable)
        expect(path, `${name}: ${path}`).toMatch(/^\/(workspace|tmp|var\/tmp|dev|newroot)\b/);
      for (const secret of [
        'deny @{DEVBOT_DATA}/** rwklx,',
        'deny /run/secrets/** rwklx,',
        'deny /**/.env rwklx,',
        'deny /proc/*/environ rwklx,',
        'deny @{HOMEDIRS}** rwklx,',
      ])
        expect(body, `${name}: ${secret}`).toContain(secret);
    }
  });

  const parser = which('apparmor_parser');
  const reason = parser ? '' : ' (skipped: apparmor_parser not installed; apt-get install apparmor)';
  it.skipIf(!parser)(`apparmor_parser compiles both profiles${reason}`, () => {
    // -Q: do not load into the kernel, -K: no cache, -T: no cache read; -N: list the profile names.
    const out = run(parser ?? '', ['-Q', '-K', '-T', '-N', PROFILE]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout.trim().split('\n').sort()).toEqual(['devbot-sandbox', 'devbot-sandbox-net']);
  });
  it.skipIf(!parser)(`apparmor_parser rejects a broken copy (the check is real)${reason}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'devbot-aa-'));
    try {
      const broken = join(dir, 'devbot-sandbox');
      writeFileSync(broken, text.replace('deny network inet,', 'deny network inet'));
      const out = run(parser ?? '', ['-Q', '-K', '-T', broken]);
      expect(out.code).not.toBe(0);
      expect(out.stderr).toMatch(/error/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = repoFile('Dockerfile');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1) ?? '';

  it('is multi-stage: builds with npm run build and ships a slim runtime', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toMatch(/RUN npm run build/);
    expect(dockerfile).toMatch(/ARG NODE_IMAGE=node:20-bookworm-slim/);
    expect(runtime).toMatch(/--omit=dev|COPY --from=prod-deps/);
    const pkg = JSON.parse(repoFile('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts['build']).toBeDefined();
  });

  it('runs as a non-root user with git, bubblewrap and python3, and checks /healthz', () => {
    const user = runtime.match(/^USER (\S+)/m)?.[1];
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)$/);
    for (const pkg of ['git', 'bubblewrap', 'python3'])
      expect(runtime).toMatch(new RegExp(`install[^\\n]*\\b${pkg}\\b`));
    expect(runtime).toMatch(/HEALTHCHECK[\s\S]*\/healthz/);
    expect(runtime).toMatch(/ENTRYPOINT \[[^\]]*"node", "bin\/devbot\.js"\]/);
    expect(runtime).toMatch(/CMD \["start", "--role", "all"\]/);
  });

  it('keeps secrets and local state out of the build context', () => {
    const ignored = repoFile('.dockerignore').split('\n');
    for (const entry of ['.env', '.git', 'node_modules', '.devbot', '*.pem'])
      expect(ignored).toContain(entry);
  });
});

interface Workflow {
  on: { push?: { branches?: string[] }; pull_request?: unknown };
  jobs: Record<
    string,
    {
      strategy?: { matrix?: { node?: number[] } };
      services?: Record<string, { image: string }>;
      container?: { image: string };
      env?: Record<string, string>;
      steps?: { uses?: string; run?: string; with?: Record<string, unknown> }[];
    }
  >;
}

describe('CI workflow and dependabot', () => {
  const workflow = repoYaml<Workflow>('.github/workflows/ci.yml');
  const steps = Object.values(workflow.jobs).flatMap((j) => j.steps ?? []);
  const runs = steps.map((s) => s.run ?? '').join('\n');

  it('runs on pushes to main and on pull requests', () => {
    expect(workflow.on.push?.branches).toEqual(['main']);
    expect(workflow.on).toHaveProperty('pull_request');
  });

  it('tests on Node 20, 22 and 24 against Postgres (pgvector) and Redis service containers', () => {
    const test = workflow.jobs['test'];
    expect(test?.strategy?.matrix?.node).toEqual([20, 22, 24]);
    expect(test?.services?.['postgres']?.image).toBe('pgvector/pgvector:pg17');
    expect(test?.services?.['redis']?.image).toMatch(/^redis:/);
    expect(test?.env?.['DEVBOT_TEST_DATABASE_URL']).toBe('postgres://postgres@127.0.0.1:5432/test');
    for (const command of ['npm ci', 'npm run lint', 'npm run typecheck', 'npm test', 'bubblewrap'])
      expect(runs).toContain(command);
  });

  it('builds the image, scans image and repository with Trivy, and runs Semgrep', () => {
    const uses = steps.map((s) => s.uses ?? '');
    expect(uses).toContain('docker/build-push-action@v6');
    const trivy = steps.filter((s) => s.uses?.startsWith('aquasecurity/trivy-action@'));
    expect(trivy.some((s) => s.with?.['image-ref'] === 'devbot:ci')).toBe(true);
    expect(trivy.some((s) => s.with?.['scan-type'] === 'fs')).toBe(true);
    expect(Object.values(workflow.jobs).some((j) => j.container?.image === 'semgrep/semgrep')).toBe(true);
    expect(runs).toMatch(/semgrep scan .*--error/);
    // Every action is pinned to a version, never a moving branch.
    for (const use of uses.filter(Boolean)) expect(use, use).toMatch(/@v?\d/);
  });

  it('dependabot watches npm, GitHub Actions and Docker', () => {
    const config = repoYaml<{ updates: { 'package-ecosystem': string }[] }>('.github/dependabot.yml');
    const ecosystems = config.updates.map((u) => u['package-ecosystem']);
    for (const e of ['npm', 'github-actions', 'docker']) expect(ecosystems).toContain(e);
  });
});

describe('pre-commit hooks and secrets', () => {
  const hooks = repoYaml<{ 'pre-commit': { commands: Record<string, { run: string }> } }>('lefthook.yml');

  it('format + lint with biome and scan for secrets, over staged files only', () => {
    const commands = Object.values(hooks['pre-commit'].commands).map((c) => c.run);
    expect(commands.some((c) => c.includes('biome check') && c.includes('{staged_files}'))).toBe(true);
    expect(commands.some((c) => c.includes('secretlint') && c.includes('{staged_files}'))).toBe(true);
  });

  it('has no install script that would make `npm ci` fail where git hooks cannot be installed', () => {
    const pkg = JSON.parse(repoFile('package.json')) as {
      scripts: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    for (const script of ['prepare', 'postinstall', 'preinstall', 'install'])
      expect(pkg.scripts[script] ?? '', script).not.toMatch(/lefthook|husky/);
    expect(pkg.devDependencies).toHaveProperty('lefthook');
    expect(pkg.devDependencies).toHaveProperty('secretlint');
  });

  it('.sops.yaml encrypts the deployment env files', () => {
    const sops = repoYaml<{ creation_rules: { path_regex: string; age?: string }[] }>('.sops.yaml');
    const rule = sops.creation_rules.find((r) => new RegExp(r.path_regex).test('deploy/prod.enc.env'));
    expect(rule?.age).toMatch(/^age1/);
    expect(sops.creation_rules.some((r) => new RegExp(r.path_regex).test('.env'))).toBe(false);
    expect(repoFile('.gitignore').split('\n')).toContain('.env');
  });

  describe('secretlint (the pre-commit scanner) with the repository config', () => {
    const secretlint = join(ROOT, 'node_modules', '.bin', 'secretlint');
    let dir = '';
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'devbot-secretlint-'));
      // Assembled at run time so this test file is not itself a finding.
      const token = ['ghp', 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'].join('_');
      writeFileSync(join(dir, 'leak.yml'), `github_token: ${token}\n`);
      writeFileSync(join(dir, 'clean.yml'), 'github_token: from the environment\n');
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const scan = (file: string) =>
      run(secretlint, ['--maskSecrets', '--secretlintrc', join(ROOT, '.secretlintrc.json'), file], dir);

    it('blocks a staged file holding a GitHub token, without printing the token', () => {
      const out = scan('leak.yml');
      expect(out.code).toBe(1);
      expect(out.stdout).toMatch(/GITHUB_TOKEN/);
      expect(out.stdout).not.toContain('A1b2C3d4E5f6G7h8I9j0');
    });

    it('lets a clean file through', () => {
      const out = scan('clean.yml');
      expect(out.code, out.stdout + out.stderr).toBe(0);
    });
  });
});
