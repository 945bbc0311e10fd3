import { describe, expect, it } from 'vitest';
import { DEVBOT_COMMANDS, parseSubcommand } from '../../src/github/commands.js';

describe('parseSubcommand', () => {
  it('finds a table entry by its first word, case-insensitive, with what follows', () => {
    expect(parseSubcommand('Explain: how the cache works')).toMatchObject({
      name: 'explain',
      rest: 'how the cache works',
    });
    expect(parseSubcommand('stop')).toMatchObject({ name: 'stop', rest: '' });
    expect(parseSubcommand('review\nplease')?.rest).toBe('please');
  });

  it('plain words, prototype keys and lookalikes are not subcommands', () => {
    expect(parseSubcommand('rename foo to bar')).toBeNull();
    expect(parseSubcommand('constructor')).toBeNull();
    expect(parseSubcommand('__proto__')).toBeNull();
    expect(parseSubcommand('stop-gap fix')).toBeNull();
    expect(parseSubcommand('')).toBeNull();
  });

  it('a new subcommand is one table entry', () => {
    const table = { ...DEVBOT_COMMANDS, go: { action: 'control' as const, help: 'approve the plan' } };
    expect(parseSubcommand('go', table)?.spec.action).toBe('control');
    expect(parseSubcommand('go')).toBeNull();
  });
});
