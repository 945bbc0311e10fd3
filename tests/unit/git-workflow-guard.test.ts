import { describe, expect, it } from 'vitest';
import { assertChangeAllowed, leavesRepository } from '../../src/core/change-guard.js';
import { BadInputError } from '../../src/core/errors.js';
import { requireRepoConfig as parseRepoConfig } from '../../src/core/index.js';
import { assertWorkflowChangesAllowed, workflowPaths } from '../../src/core/workflow-guard.js';

describe('workflow guard', () => {
  it('finds workflow files and everything else under .github/, case-insensitively', () => {
    expect(
      workflowPaths([
        'src/a.ts',
        '.github/workflows/ci.yml',
        '.GitHub/Workflows/x.yml',
        '.github/CODEOWNERS',
      ]),
    ).toEqual(['.github/workflows/ci.yml', '.GitHub/Workflows/x.yml', '.github/CODEOWNERS']);
  });
  it('refuses workflow changes by default, naming the files and the way to allow them', () => {
    const config = parseRepoConfig(null);
    expect(() => assertWorkflowChangesAllowed(['.github/workflows/ci.yml'], config)).toThrow(BadInputError);
    expect(() => assertWorkflowChangesAllowed(['.github/workflows/ci.yml'], config)).toThrow(
      /allow_workflow_changes: true/,
    );
    expect(() => assertWorkflowChangesAllowed(['src/a.ts'], config)).not.toThrow();
  });
  it('allows them when .devbot.yml says so', () => {
    const config = parseRepoConfig('allow_workflow_changes: true\ntest: npm test\n');
    expect(() => assertWorkflowChangesAllowed(['.github/workflows/ci.yml'], config)).not.toThrow();
  });
});

describe('.devbot.yml', () => {
  it('defaults when absent or empty', () => {
    expect(parseRepoConfig(null).allow_workflow_changes).toBe(false);
    expect(parseRepoConfig('').allow_workflow_changes).toBe(false);
  });
  it('fails clearly on bad YAML or a wrong type, never silently allowing', () => {
    expect(() => parseRepoConfig('allow_workflow_changes: [')).toThrow(/not valid YAML/);
    expect(() => parseRepoConfig('allow_workflow_changes: "yes"')).toThrow(/allow_workflow_changes/);
  });
});

describe('the change guard', () => {
  const config = { allow_workflow_changes: false };
  it('refuses devbot settings, submodules and symlinks that leave the repository', () => {
    expect(() => assertChangeAllowed([{ path: '.devbot.yml', mode: '100644' }], config)).toThrow(
      /own settings/,
    );
    expect(() => assertChangeAllowed([{ path: '.DEVBOT.YML', mode: '000000' }], config)).toThrow(
      /own settings/,
    );
    expect(() => assertChangeAllowed([{ path: 'vendor/lib', mode: '160000' }], config)).toThrow(/submodules/);
    for (const [path, linkTarget] of [
      ['leak', '/proc/self/environ'],
      ['a/b/up', '../../../etc/passwd'],
      ['x', '..'],
      ['w', 'a\\..\\..\\b'],
    ] as const)
      expect(() => assertChangeAllowed([{ path, mode: '120000', linkTarget }], config)).toThrow(/symlink/);
    expect(() => assertChangeAllowed([{ path: '.github/CODEOWNERS', mode: '100644' }], config)).toThrow(
      /\.github/,
    );
  });

  it('lets ordinary files and symlinks inside the repository through', () => {
    expect(() =>
      assertChangeAllowed(
        [
          { path: 'src/a.ts', mode: '100644' },
          { path: 'bin/run', mode: '100755' },
          { path: 'docs/latest', mode: '120000', linkTarget: 'v2/index.md' },
          { path: 'a/b/sibling', mode: '120000', linkTarget: '../c/file' },
          { path: 'old.txt', mode: '000000' },
        ],
        config,
      ),
    ).not.toThrow();
    expect(leavesRepository('a/b', '../b')).toBe(false);
    expect(leavesRepository('a', '../b')).toBe(true);
  });
});
