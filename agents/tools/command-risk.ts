/**
 * Which commands need a person's approval (issue 18, `approval: commands`). A pure function of the
 * command text: the command is split into simple commands (`;`, `&&`, `||`, `|`, `&`, newlines,
 * subshells, `$(...)` and backticks, `bash -c '...'`, `eval`, `xargs`), env prefixes, `sudo`, `env`,
 * `nohup`, `time` and the like are stripped, and each simple command is judged by what it runs.
 * When in doubt (unbalanced quotes, a deletion target it cannot resolve) it says risky: the cost of
 * asking is a button press, the cost of not asking may be the machine.
 *
 * This is not the sandbox's boundary (the sandbox enforces its own policy whatever runs): it decides
 * what a person wants to see before it runs.
 */

export type RiskClass =
  | 'delete' // deleting outside the workspace (or the repository's .git), dd, mkfs
  | 'write' // a redirection into a file outside the workspace
  | 'install' // package installs
  | 'network' // anything that reaches the network
  | 'push' // git push
  | 'reset' // git reset --hard, git clean -x
  | 'chmod' // recursive chmod / chown
  | 'pipe-to-shell' // `... | sh`, `curl ... | bash`
  | 'privilege' // sudo, su, doas
  | 'repo-pattern' // the repository's `approve_commands`
  | 'unparsed'; // the command could not be read (unbalanced quotes)

export interface RiskReason {
  class: RiskClass;
  /** What was matched, for the person who decides ("rm -rf /", "curl http://x"). */
  detail: string;
}

export interface CommandRiskOptions {
  /** The workspace root inside the sandbox, e.g. `/workspace`. */
  workdir: string;
  /** `.devbot.yml approve_commands`: globs (`*` any text) matched against each simple command. */
  patterns?: readonly string[];
}

export interface CommandRisk {
  risky: boolean;
  reasons: RiskReason[];
}

const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'fish', 'ash']);
const INTERPRETERS = new Set([...SHELLS, 'python', 'python3', 'node', 'perl', 'ruby', 'php', 'deno', 'bun']);
/** Wrappers that run the rest of their arguments as a command. */
const WRAPPERS = new Set([
  'nohup',
  'time',
  'nice',
  'ionice',
  'exec',
  'command',
  'builtin',
  'timeout',
  'stdbuf',
]);
const PRIVILEGE = new Set(['sudo', 'su', 'doas', 'pkexec']);
const HARMLESS = new Set(['echo', 'printf', 'true', 'false', ':', 'test', '[', 'pwd', 'type', 'which']);
const NETWORK_TOOLS = new Set([
  'curl',
  'wget',
  'nc',
  'ncat',
  'netcat',
  'socat',
  'ssh',
  'scp',
  'sftp',
  'rsync',
  'telnet',
  'ftp',
  'ping',
  'nslookup',
  'dig',
  'host',
  'aria2c',
  'http',
  'npx',
  'pnpx',
  'bunx',
]);
const DELETERS = new Set(['rm', 'rmdir', 'shred', 'unlink', 'srm', 'trash']);
/** package manager -> subcommands that install. */
const INSTALLERS: Record<string, ReadonlySet<string>> = {
  npm: new Set(['install', 'i', 'ci', 'add', 'update', 'up', 'upgrade', 'install-test', 'it', 'exec']),
  pnpm: new Set(['install', 'i', 'add', 'update', 'up', 'dlx', 'exec']),
  yarn: new Set(['', 'install', 'add', 'upgrade', 'dlx']),
  bun: new Set(['install', 'i', 'add', 'update', 'x']),
  pip: new Set(['install', 'download']),
  pip3: new Set(['install', 'download']),
  pipx: new Set(['install', 'run']),
  uv: new Set(['add', 'sync', 'pip', 'tool', 'run']),
  poetry: new Set(['add', 'install', 'update']),
  apt: new Set(['install', 'update', 'upgrade']),
  'apt-get': new Set(['install', 'update', 'upgrade', 'dist-upgrade']),
  dnf: new Set(['install', 'update', 'upgrade']),
  yum: new Set(['install', 'update', 'upgrade']),
  apk: new Set(['add', 'update', 'upgrade']),
  brew: new Set(['install', 'upgrade', 'update']),
  cargo: new Set(['install', 'add', 'fetch', 'update']),
  go: new Set(['install', 'get', 'mod']),
  gem: new Set(['install', 'update']),
  bundle: new Set(['install', 'update', 'add']),
  composer: new Set(['install', 'require', 'update']),
  conda: new Set(['install', 'create', 'update']),
  mamba: new Set(['install', 'create', 'update']),
};
const GIT_NETWORK = new Set(['clone', 'fetch', 'pull', 'ls-remote', 'remote', 'submodule', 'archive']);

/** A normalized command: what "Allow for this task" remembers (whitespace runs collapsed). */
export function normalizeCommand(command: string): string {
  return command.trim().replace(/\s+/g, ' ');
}

export function assessCommand(command: string, options: CommandRiskOptions): CommandRisk {
  const reasons: RiskReason[] = [];
  const add = (r: RiskReason) => {
    if (!reasons.some((x) => x.class === r.class && x.detail === r.detail)) reasons.push(r);
  };
  visit(command, options, add, 0);
  return { risky: reasons.length > 0, reasons };
}

/** A short sentence for the person who decides ("network access (curl http://x)"). */
export function describeRisk(reasons: readonly RiskReason[]): string {
  return reasons.map((r) => `${CLASS_WORDS[r.class]} (${r.detail})`).join('; ');
}

const CLASS_WORDS: Record<RiskClass, string> = {
  delete: 'deletes outside the workspace',
  write: 'writes outside the workspace',
  install: 'installs packages',
  network: 'uses the network',
  push: 'pushes with git',
  reset: 'throws away work in git',
  chmod: 'changes permissions recursively',
  'pipe-to-shell': 'pipes into a shell',
  privilege: 'asks for root',
  'repo-pattern': "matches the repository's approve_commands",
  unparsed: 'could not be read',
};

type Add = (r: RiskReason) => void;

interface Segment {
  words: string[];
  /** Redirection targets (`> file`, `>> file`). */
  redirects: string[];
  /** The segment reads a pipe (`a | b`: b). */
  piped: boolean;
  text: string;
}

function visit(command: string, options: CommandRiskOptions, add: Add, depth: number): void {
  if (depth > 4) {
    add({ class: 'unparsed', detail: clip(command) });
    return;
  }
  const parsed = parse(command);
  if (!parsed) {
    add({ class: 'unparsed', detail: clip(command) });
    return;
  }
  for (const inner of parsed.substitutions) visit(inner, options, add, depth + 1);
  for (const segment of parsed.segments) judge(segment, options, add, depth);
}

function judge(segment: Segment, options: CommandRiskOptions, add: Add, depth: number): void {
  for (const pattern of options.patterns ?? [])
    if (matchesPattern(pattern, segment.text)) add({ class: 'repo-pattern', detail: pattern });
  for (const target of segment.redirects)
    if (outsideWorkspace(target, options.workdir, ['/tmp', '/dev']))
      add({ class: 'write', detail: `> ${target}` });
  const words = unwrap(segment.words, add);
  const program = basename(words[0] ?? '');
  if (!program) return;
  const args = words.slice(1);
  const text = clip(words.join(' '));
  if (HARMLESS.has(program)) return;

  if ((program === 'eval' || program === 'xargs' || program === 'watch') && args.length > 0) {
    // eval joins its words into one command line; xargs and watch run theirs as words.
    const line =
      program === 'eval' ? args.join(' ') : dropOptions(args, XARGS_WITH_VALUE).map(quoteWord).join(' ');
    visit(line, options, add, depth + 1);
    return;
  }
  if (INTERPRETERS.has(program) || /^python3(\.\d+)?$/.test(program)) {
    const c = args.findIndex((a) => a === '-c' || (SHELLS.has(program) && /^-[a-z]*c$/.test(a)));
    if (c >= 0 && SHELLS.has(program)) {
      visit(args[c + 1] ?? '', options, add, depth + 1);
      return;
    }
    const script = args.find((a) => !a.startsWith('-'));
    if (segment.piped && (c < 0 || SHELLS.has(program)) && (!script || script === '-'))
      add({ class: 'pipe-to-shell', detail: `| ${program}` });
    if (/^python/.test(program) && args[0] === '-m' && /^pip3?$/.test(args[1] ?? ''))
      judgeInstaller('pip', args.slice(2), text, add);
    if (args.some((a) => /^[a-z][a-z0-9+.-]*:\/\//i.test(a) || (c >= 0 && /https?:\/\//.test(a))))
      add({ class: 'network', detail: text });
    return;
  }
  if (PRIVILEGE.has(program)) {
    add({ class: 'privilege', detail: text });
    return;
  }
  if (NETWORK_TOOLS.has(program)) add({ class: 'network', detail: text });
  else if (args.some((a) => /^[a-z][a-z0-9+.-]*:\/\//i.test(a) && !a.startsWith('file://')))
    add({ class: 'network', detail: text });
  if (DELETERS.has(program)) judgeDelete(args, options.workdir, text, add);
  if (program === 'find') judgeFind(args, options, text, add, depth);
  if (program === 'dd' || /^mkfs/.test(program) || program === 'wipefs')
    add({ class: 'delete', detail: text });
  if ((program === 'chmod' || program === 'chown' || program === 'chgrp') && args.some(isRecursiveFlag))
    add({ class: 'chmod', detail: text });
  if (program === 'git') judgeGit(args, text, add);
  if (program === 'docker' || program === 'podman')
    if (['pull', 'push', 'login', 'run', 'build'].includes(args[0] ?? ''))
      add({ class: 'network', detail: text });
  if (INSTALLERS[program]) judgeInstaller(program, args, text, add);
}

/**
 * `find` deletes with `-delete` (risky when it starts outside the workspace), and runs commands with
 * `-exec`/`-execdir`/`-ok`: those are judged as commands, `{}` standing for where find starts.
 */
function judgeFind(
  args: readonly string[],
  options: CommandRiskOptions,
  text: string,
  add: Add,
  depth: number,
) {
  const firstOption = args.findIndex((a) => a.startsWith('-') || a === '(' || a === '!');
  const roots = (firstOption < 0 ? args : args.slice(0, firstOption)).filter(Boolean);
  const root = options.workdir.replace(/\/+$/, '');
  const outside = (r: string) =>
    outsideWorkspace(r, options.workdir, ['/tmp']) &&
    resolveDots(r.startsWith('/') ? r : `${root}/${r}`) !== root;
  if (args.includes('-delete') && (roots.length === 0 || roots.some(outside)))
    add({ class: 'delete', detail: text });
  const start = roots.find(outside) ?? roots[0] ?? '.';
  for (let i = 0; i < args.length; i++) {
    if (!['-exec', '-execdir', '-ok', '-okdir'].includes(args[i] as string)) continue;
    const end = args.findIndex((a, j) => j > i && (a === ';' || a === '+'));
    const words = args.slice(i + 1, end < 0 ? undefined : end).map((w) => w.replaceAll('{}', start));
    visit(words.map(quoteWord).join(' '), options, add, depth + 1);
    if (end < 0) break;
    i = end;
  }
}

function judgeInstaller(program: string, args: readonly string[], text: string, add: Add): void {
  const subcommands = INSTALLERS[program];
  if (!subcommands) return;
  const sub = args.find((a) => !a.startsWith('-')) ?? '';
  if (subcommands.has(sub)) add({ class: 'install', detail: text });
}

function judgeGit(args: readonly string[], text: string, add: Add): void {
  // `git -C dir push`: skip the global options first.
  let i = 0;
  while (i < args.length && (args[i] ?? '').startsWith('-'))
    i += ['-C', '-c'].includes(args[i] ?? '') ? 2 : 1;
  const sub = args[i] ?? '';
  const rest = args.slice(i + 1);
  if (sub === 'push') add({ class: 'push', detail: text });
  if (sub === 'push' || GIT_NETWORK.has(sub)) add({ class: 'network', detail: text });
  if (sub === 'reset' && rest.includes('--hard')) add({ class: 'reset', detail: text });
  if (sub === 'clean' && rest.some((a) => /^-[a-zA-Z]*x/.test(a))) add({ class: 'reset', detail: text });
  if (sub === 'checkout' && rest.includes('--') && rest.includes('.')) add({ class: 'reset', detail: text });
}

function judgeDelete(args: readonly string[], workdir: string, text: string, add: Add): void {
  const targets = dropOptions(args, new Set());
  if (targets.length === 0) return;
  for (const target of targets) {
    if (outsideWorkspace(target, workdir, ['/tmp']) || touchesGitDir(target, workdir)) {
      add({ class: 'delete', detail: text });
      return;
    }
  }
}

/**
 * Whether a path may be outside the workspace. Relative paths are relative to the workspace root
 * (where commands run); anything it cannot resolve (`~`, `$VAR`, globs at the root) counts as outside.
 */
function outsideWorkspace(raw: string, workdir: string, allowed: readonly string[]): boolean {
  const path = raw.trim();
  if (path === '' || path === '-' || /^&\d*$/.test(path)) return false;
  if (/^~|\$|\{|`/.test(path)) return true;
  const root = workdir.replace(/\/+$/, '') || '/';
  const absolute = path.startsWith('/') ? path : `${root}/${path}`;
  const resolved = resolveDots(absolute);
  if (resolved === null) return true;
  // The workspace itself (`rm -rf .`, `rm -rf /workspace`): everything, tracked files included.
  if (resolved === root) return true;
  if (resolved.startsWith(`${root}/`)) return false;
  return !allowed.some((p) => resolved === p || resolved.startsWith(`${p}/`));
}

function touchesGitDir(raw: string, workdir: string): boolean {
  const root = workdir.replace(/\/+$/, '');
  const absolute = raw.startsWith('/') ? raw : `${root}/${raw}`;
  const resolved = resolveDots(absolute);
  return resolved === `${root}/.git` || (resolved?.startsWith(`${root}/.git/`) ?? false);
}

/** `/a/b/../c` -> `/a/c`; null when it climbs above `/`. */
function resolveDots(path: string): string | null {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return null;
      out.pop();
    } else out.push(part);
  }
  return `/${out.join('/')}`;
}

const XARGS_WITH_VALUE = new Set(['-I', '-i', '-n', '-P', '-L', '-s', '-d', '-E', '-a']);

/** Arguments that are not options (`--` ends options); `withValue` options take the next word. */
function dropOptions(args: readonly string[], withValue: ReadonlySet<string>): string[] {
  const out: string[] = [];
  let options = true;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (options && a === '--') {
      options = false;
      continue;
    }
    if (options && a.startsWith('-') && a !== '-') {
      if (withValue.has(a)) i += 1;
      continue;
    }
    if (withValue.size > 0) return [...out, ...args.slice(i)];
    out.push(a);
  }
  return out;
}

function isRecursiveFlag(a: string): boolean {
  return a === '--recursive' || /^-[a-zA-Z]*R/.test(a);
}

/** Strips env assignments and wrappers (`FOO=1 sudo -E env BAR=2 nohup npm i` -> `npm i`). */
function unwrap(words: readonly string[], add: Add): string[] {
  let rest = [...words];
  for (let guard = 0; guard < 10; guard++) {
    while (rest[0] !== undefined && /^[A-Za-z_][A-Za-z0-9_]*=/.test(rest[0])) rest = rest.slice(1);
    const head = basename(rest[0] ?? '');
    if (PRIVILEGE.has(head)) {
      add({ class: 'privilege', detail: clip(rest.join(' ')) });
      rest = rest.slice(1);
      // sudo's own options (and `-u user`).
      while (rest[0]?.startsWith('-')) rest = rest.slice(['-u', '-g', '-C'].includes(rest[0]) ? 2 : 1);
      continue;
    }
    if (head === 'env') {
      rest = rest.slice(1);
      while (rest[0]?.startsWith('-')) rest = rest.slice(rest[0] === '-u' ? 2 : 1);
      continue;
    }
    if (WRAPPERS.has(head)) {
      rest = rest.slice(1);
      while (rest[0]?.startsWith('-')) rest = rest.slice(['-n', '-c', '-s', '-k'].includes(rest[0]) ? 2 : 1);
      if (head === 'timeout' && rest[0] && /^\d/.test(rest[0])) rest = rest.slice(1);
      continue;
    }
    break;
  }
  return rest;
}

function basename(word: string): string {
  return word.slice(word.lastIndexOf('/') + 1);
}

function quoteWord(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}…` : text;
}

/** A glob (`*` any text) over a whole simple command, or its leading words. */
export function matchesPattern(pattern: string, segment: string): boolean {
  const p = normalizeCommand(pattern);
  const s = normalizeCommand(segment);
  if (!p) return false;
  const body = p
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}(\\s.*)?$`).test(s);
}

/**
 * A small POSIX-ish reader: words with quotes and escapes, operators that end a simple command,
 * redirections, and the command substitutions it finds (returned to be judged on their own).
 * Null when the quotes do not balance.
 */
export function parse(command: string): { segments: Segment[]; substitutions: string[] } | null {
  const segments: Segment[] = [];
  const substitutions: string[] = [];
  let words: string[] = [];
  let redirects: string[] = [];
  let word = '';
  let inWord = false;
  let piped = false;
  let pendingRedirect = false;
  let start = 0;
  const endWord = () => {
    if (!inWord) return;
    if (pendingRedirect) {
      redirects.push(word);
      pendingRedirect = false;
    } else words.push(word);
    word = '';
    inWord = false;
  };
  const endSegment = (i: number, nextPiped: boolean) => {
    endWord();
    if (words.length > 0 || redirects.length > 0)
      segments.push({ words, redirects, piped, text: command.slice(start, i).trim() });
    words = [];
    redirects = [];
    piped = nextPiped;
    start = i;
  };
  let i = 0;
  const n = command.length;
  while (i < n) {
    const ch = command[i] as string;
    if (ch === '\\') {
      if (i + 1 < n && command[i + 1] !== '\n') word += command[i + 1];
      inWord = true;
      i += 2;
      continue;
    }
    if (ch === "'") {
      const close = command.indexOf("'", i + 1);
      if (close < 0) return null;
      word += command.slice(i + 1, close);
      inWord = true;
      i = close + 1;
      continue;
    }
    if (ch === '"') {
      let j = i + 1;
      let text = '';
      for (; j < n && command[j] !== '"'; j++) {
        const c = command[j] as string;
        if (c === '\\' && j + 1 < n) {
          text += command[j + 1];
          j += 1;
        } else if (c === '$' && command[j + 1] === '(') {
          const close = matchParen(command, j + 1);
          if (close < 0) return null;
          substitutions.push(command.slice(j + 2, close));
          text += '$SUBST';
          j = close;
        } else if (c === '`') {
          const close = command.indexOf('`', j + 1);
          if (close < 0) return null;
          substitutions.push(command.slice(j + 1, close));
          text += '$SUBST';
          j = close;
        } else text += c;
      }
      if (j >= n) return null;
      word += text;
      inWord = true;
      i = j + 1;
      continue;
    }
    if (ch === '$' && command[i + 1] === '(') {
      const close = matchParen(command, i + 1);
      if (close < 0) return null;
      substitutions.push(command.slice(i + 2, close));
      word += '$SUBST';
      inWord = true;
      i = close + 1;
      continue;
    }
    if (ch === '`') {
      const close = command.indexOf('`', i + 1);
      if (close < 0) return null;
      substitutions.push(command.slice(i + 1, close));
      word += '$SUBST';
      inWord = true;
      i = close + 1;
      continue;
    }
    if (ch === '#' && !inWord) {
      const eol = command.indexOf('\n', i);
      i = eol < 0 ? n : eol;
      continue;
    }
    if (ch === ' ' || ch === '\t') {
      endWord();
      i += 1;
      continue;
    }
    if (ch === '\n' || ch === ';' || ch === '(' || ch === ')' || ch === '{' || ch === '}') {
      // Braces group only as words of their own (`{ a; }`); `{}` and `a{b,c}` are text.
      const next = command[i + 1] ?? '';
      const alone = !inWord && (next === '' || /[\s;&|()]/.test(next));
      if ((ch === '{' || ch === '}') && !alone) {
        word += ch;
        inWord = true;
        i += 1;
        continue;
      }
      endSegment(i, false);
      i += 1;
      start = i;
      continue;
    }
    if (ch === '|' || ch === '&') {
      const two = command.slice(i, i + 2);
      if (ch === '&' && command[i + 1] === '>') {
        // `&>file`: a redirection.
        endWord();
        pendingRedirect = true;
        i += command[i + 2] === '>' ? 3 : 2;
        continue;
      }
      const isPipe = two === '|&' || (ch === '|' && two !== '||');
      endSegment(i, isPipe);
      i += two === '&&' || two === '||' || two === '|&' ? 2 : 1;
      start = i;
      continue;
    }
    if (ch === '>' || ch === '<') {
      // `2>&1`, `>&2`: descriptors, not files.
      const fd = /\d$/.test(word) && inWord && /^\d+$/.test(word);
      if (fd) {
        word = '';
        inWord = false;
      } else endWord();
      let j = i + 1;
      if (command[j] === '>' || command[j] === '|') j += 1;
      if (command[j] === '&') {
        // `>&1` duplicates a descriptor.
        j += 1;
        while (j < n && /\d|-/.test(command[j] as string)) j += 1;
        i = j;
        continue;
      }
      if (ch === '<') {
        if (command[j] === '<') {
          // Here-documents and here-strings: the rest is data, not commands.
          return {
            segments: [...segments, { words, redirects, piped, text: command.slice(start).trim() }],
            substitutions,
          };
        }
        // Input redirection: the file is read, not written; skip the word.
        endWord();
        while (j < n && (command[j] === ' ' || command[j] === '\t')) j += 1;
        while (j < n && !/[\s;&|()<>]/.test(command[j] as string)) j += 1;
        i = j;
        continue;
      }
      pendingRedirect = true;
      i = j;
      continue;
    }
    word += ch;
    inWord = true;
    i += 1;
  }
  endSegment(n, false);
  return { segments, substitutions };
}

/** The index of the `)` that closes the `(` at `open`, skipping quotes and nested parentheses. */
function matchParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') i += 1;
    else if (ch === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) return -1;
      i = close;
    } else if (ch === '(') depth += 1;
    else if (ch === ')') {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  return -1;
}
