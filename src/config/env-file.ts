/**
 * `.env` files: the working directory's `.env`, or the file DEVBOT_ENV_FILE names, under the
 * process environment (a variable set in the environment always wins, as with dotenv and docker
 * compose). The CLI merges the two with `loadEnvironment` and hands the result to `loadConfig`, so
 * the configuration stays one function of one injected env.
 *
 * Our own parser rather than Node's `util.parseEnv`/`process.loadEnvFile` (20.12+): on Node 20
 * they accept malformed lines silently (a line without `=` is glued to the next one's name), and a
 * typo in a deployment's env file must stop devbot with the line number instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError, type Env } from './config.js';

/** What an env file may hold: `NAME=value`, `export NAME=value`, comments and blank lines. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class EnvFileError extends ConfigError {
  constructor(
    readonly file: string,
    readonly line: number,
    problem: string,
  ) {
    super([`${file} line ${line}: ${problem}`]);
    this.name = 'EnvFileError';
  }
}

/**
 * Parses the text of an env file. Values may be bare (trimmed; ` #` starts a comment),
 * 'single-quoted' (taken literally) or "double-quoted" (\n, \r, \t, \" and \\ escapes; may span
 * lines, for PEM keys). Errors never quote the line: it may hold a secret.
 */
export function parseEnvFile(text: string, file = '.env'): Record<string, string> {
  const vars: Record<string, string> = {};
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const body = line.startsWith('export ') ? line.slice('export '.length).trimStart() : line;
    const eq = body.indexOf('=');
    if (eq < 0)
      throw new EnvFileError(file, lineNo, 'expected NAME=value (a variable name, "=", then the value)');
    const name = body.slice(0, eq).trim();
    if (!NAME.test(name))
      throw new EnvFileError(
        file,
        lineNo,
        'the name before "=" is not a variable name (letters, digits and _, not starting with a digit)',
      );
    const rest = body.slice(eq + 1).trimStart();
    const quote = rest[0];
    if (quote === '"' || quote === "'") {
      // The value ends at the matching quote, possibly on a later line.
      let value = rest.slice(1);
      let endLine = i;
      let close = findClosingQuote(value, quote);
      while (close < 0 && quote === '"' && endLine + 1 < lines.length) {
        endLine += 1;
        value += `\n${lines[endLine] ?? ''}`;
        close = findClosingQuote(value, quote);
      }
      if (close < 0)
        throw new EnvFileError(file, lineNo, `the value opens a ${quote} quote that never closes`);
      const after = value.slice(close + 1).trim();
      if (after !== '' && !after.startsWith('#'))
        throw new EnvFileError(file, endLine + 1, 'unexpected text after the closing quote');
      const inner = value.slice(0, close);
      vars[name] = quote === '"' ? unescapeDouble(inner) : inner;
      i = endLine;
      continue;
    }
    // A bare value: a comment starts at "#" after a space or right after "=" (a # inside a value,
    // as in a URL fragment, stays; quote a value that must start with #).
    const comment = rest.startsWith('#') ? 0 : rest.search(/\s#/);
    vars[name] = (comment >= 0 ? rest.slice(0, comment) : rest).trim();
  }
  return vars;
}

function findClosingQuote(text: string, quote: string): number {
  for (let i = 0; i < text.length; i++) {
    if (quote === '"' && text[i] === '\\') {
      i += 1;
      continue;
    }
    if (text[i] === quote) return i;
  }
  return -1;
}

function unescapeDouble(text: string): string {
  return text.replace(/\\([nrt"\\])/g, (_, c: string) =>
    c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c,
  );
}

export interface LoadedEnvironment {
  /** The file's variables under the process environment's. */
  env: Env;
  /** The file that was read, if any. */
  file: string | null;
}

/**
 * The environment devbot runs with: `cwd/.env` (or `DEVBOT_ENV_FILE`, which must exist) with the
 * process environment on top. No `.env` is fine: every setting has a default.
 */
export function loadEnvironment(processEnv: Env, cwd: string): LoadedEnvironment {
  const named = processEnv['DEVBOT_ENV_FILE'];
  const path = named ? (isAbsolute(named) ? named : resolve(cwd, named)) : resolve(cwd, '.env');
  if (!existsSync(path)) {
    if (named)
      throw new ConfigError([`DEVBOT_ENV_FILE: ${path} does not exist; point it at an env file or unset it`]);
    return { env: { ...processEnv }, file: null };
  }
  const vars = parseEnvFile(readFileSync(path, 'utf8'), named ? path : '.env');
  const env: Env = { ...vars };
  for (const [key, value] of Object.entries(processEnv)) if (value !== undefined) env[key] = value;
  return { env, file: path };
}
