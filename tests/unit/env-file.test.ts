import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { EnvFileError, loadEnvironment, parseEnvFile } from '../../src/config/env-file.js';
import { removeDir, tempDir } from '../helpers/test-env.js';

const dir = tempDir('devbot-env-file-');
afterAll(() => removeDir(dir));

/** The error parseEnvFile throws for `text`, or a failure when it parses. */
function failure(text: string): EnvFileError {
  try {
    parseEnvFile(text);
  } catch (err) {
    expect(err).toBeInstanceOf(EnvFileError);
    return err as EnvFileError;
  }
  throw new Error('expected an EnvFileError');
}

describe('parseEnvFile', () => {
  it('reads bare, quoted and exported values, skipping comments and blank lines', () => {
    const text = [
      '# devbot',
      '',
      'PORT=3000',
      'export HOST = 127.0.0.1  # loopback',
      "DEVBOT_MODEL='gpt-4o-mini # not a comment'",
      'OPENAI_BASE_URL=http://localhost:11434/v1#frag',
      'EMPTY=',
      'COMMENTED= # nothing',
      'ESCAPED="a\\tb \\"quoted\\" \\\\ end"',
      'GITHUB_PRIVATE_KEY="-----BEGIN KEY-----',
      'abc',
      '-----END KEY-----"',
      'AFTER=1',
      '\r',
    ].join('\n');
    expect(parseEnvFile(text)).toEqual({
      PORT: '3000',
      HOST: '127.0.0.1',
      DEVBOT_MODEL: 'gpt-4o-mini # not a comment',
      OPENAI_BASE_URL: 'http://localhost:11434/v1#frag',
      EMPTY: '',
      COMMENTED: '',
      ESCAPED: 'a\tb "quoted" \\ end',
      GITHUB_PRIVATE_KEY: '-----BEGIN KEY-----\nabc\n-----END KEY-----',
      AFTER: '1',
    });
    // The one-line PEM form with literal \n escapes, inside double quotes, becomes real newlines.
    expect(parseEnvFile('KEY="-----BEGIN-----\\nabc\\n-----END-----"\n')['KEY']).toBe(
      '-----BEGIN-----\nabc\n-----END-----',
    );
    expect(parseEnvFile('A=1\r\nB=2\r\n')).toEqual({ A: '1', B: '2' });
  });

  it('names the line of a malformed entry and never repeats its content', () => {
    const noEquals = failure('PORT=3000\n\nsk-live-secret-value\nHOST=x\n');
    expect(noEquals.line).toBe(3);
    expect(noEquals.message).toMatch(/\.env line 3: expected NAME=value/);
    expect(noEquals.message).not.toContain('sk-live');
    expect(noEquals).toBeInstanceOf(ConfigError);

    expect(failure('A=1\nMY-VAR=2\n').message).toMatch(/line 2: the name before "=" is not a variable name/);
    expect(failure('A=1\n=2\n').line).toBe(2);
    expect(failure('A=1\nB="never closed\nC=3\n').message).toMatch(/line 2: .*quote that never closes/);
    expect(failure("A='one line only\n'\n").line).toBe(1);
    expect(failure('A="x" trailing\n').message).toMatch(/line 1: unexpected text after the closing quote/);
  });
});

describe('.env.example', () => {
  it('is a valid env file that devbot accepts as it is (cp .env.example .env)', () => {
    const example = readFileSync(join(import.meta.dirname, '../../.env.example'), 'utf8');
    const vars = parseEnvFile(example, '.env.example');
    expect(vars['HOST']).toBe('127.0.0.1');
    expect(loadConfig(vars).HOST).toBe('127.0.0.1');
  });
});

describe('loadEnvironment', () => {
  it('puts the process environment over .env, and reads DEVBOT_ENV_FILE instead when set', () => {
    writeFileSync(join(dir, '.env'), 'PORT=4000\nHOST=0.0.0.0\n');
    writeFileSync(join(dir, 'prod.env'), 'PORT=5000\n');
    expect(loadEnvironment({ HOST: '127.0.0.1' }, dir)).toEqual({
      env: { PORT: '4000', HOST: '127.0.0.1' },
      file: join(dir, '.env'),
    });
    expect(loadEnvironment({ DEVBOT_ENV_FILE: 'prod.env' }, dir).env).toEqual({
      PORT: '5000',
      DEVBOT_ENV_FILE: 'prod.env',
    });
    expect(() => loadEnvironment({ DEVBOT_ENV_FILE: 'nope.env' }, dir)).toThrow(
      /DEVBOT_ENV_FILE: .*nope\.env does not exist/,
    );
  });

  it('needs no .env at all', () => {
    const bare = tempDir('devbot-env-none-');
    try {
      expect(loadEnvironment({ PORT: '1' }, bare)).toEqual({ env: { PORT: '1' }, file: null });
    } finally {
      removeDir(bare);
    }
  });
});
