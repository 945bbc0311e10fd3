import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../src/core/errors.js';
import { requireRepoConfig as parseRepoConfig } from '../../src/core/index.js';
import { assertWorkflowChangesAllowed, workflowPaths } from '../../src/core/workflow-guard.js';

describe('workflow guard', () => {
  it('finds workflow files, case-insensitively', () => {
    expect(
      workflowPaths([
        'src/a.ts',
        '.github/workflows/ci.yml',
        '.GitHub/Workflows/x.yml',
        '.github/CODEOWNERS',
      ]),
    ).toEqual(['.github/workflows/ci.yml', '.GitHub/Workflows/x.yml']);
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
