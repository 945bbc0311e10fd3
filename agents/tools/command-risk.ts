/**
 * Which commands need a person's approval (issue 18, `approval: commands`). A pure function of the
 * command text: the command is split into simple commands (`;`, `&&`, `||`, `|`, `&`, newlines,
 * subshells, `$(...)` and backticks, `bash -c '...'`, `eval`, `xargs`), env prefixes, `sudo`, `env`,
 * `nohup`, `time` and the like are stripped, and each simple command is judged by what it runs.
 * When in doubt (unbalanced quotes, a deletion target it cannot resolve, a program name built at run
 * time) it says risky: the cost of asking is a button press, the cost of not asking may be the machine.
 *
 * What a command runs is judged by its text too: shell scripts, `package.json` scripts and (changed)
 * Makefiles line by line, programs written in this task by whether their code starts processes or
 * reaches the network. The caller reads those files (`filesToRead`) and passes them in `files`, so
 * the policy stays pure.
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
  | 'dynamic' // the program's name is built at run time (`$X`, `$(printf cu''rl)`, `{curl,x}`), LD_PRELOAD…
  | 'inline-code' // `python3 -c`/`node -e`/`perl -e`/`awk` code that spawns processes or reaches the network
  | 'script' // runs a file changed in this task whose content spawns processes or reaches the network
  | 'git-config' // a git option that runs commands (alias.*, core.sshCommand, core.hooksPath…)
  | 'unparsed'; // the command could not be read (unbalanced quotes)

export interface RiskReason {
  class: RiskClass;
  /** What was matched, for the person who decides ("rm -rf /", "curl http://x"). */
  detail: string;
  /** The file the matched text comes from (`x.sh`, `package.json`), when it is not the command itself. */
  source?: string;
}

export interface CommandRiskOptions {
  /** The workspace root inside the sandbox, e.g. `/workspace`. */
  workdir: string;
  /** `.devbot.yml approve_commands`: globs (`*` any text) matched against each simple command. */
  patterns?: readonly string[];
  /**
   * Contents of workspace files the command runs (workspace-relative path -> text, null when it
   * cannot be read): shell scripts (`sh x.sh`, `./x.sh`, `. x.sh`), the `package.json` whose scripts
   * `npm test`/`npm run x` run, the Makefile. The caller reads them (`filesToRead` says which) so the
   * policy stays a pure function; a file it needs but was not given counts as unreadable.
   */
  files?: ReadonlyMap<string, string | null>;
  /** Workspace-relative paths written or edited in this task (what the model may have planted). */
  changed?: ReadonlySet<string>;
  /**
   * Every file counts as changed: a chat's long-lived sandbox holds no repository of its own, only
   * what earlier commands (and models) left there.
   */
  everythingChanged?: boolean;
}

function isChanged(rel: string, options: CommandRiskOptions): boolean {
  return options.everythingChanged === true || (options.changed?.has(rel) ?? false);
}

/** The internal view: the options plus where a first pass records the files it wants. */
type Ctx = CommandRiskOptions & { requested?: Set<string>; inMakefile?: boolean };

export interface CommandRisk {
  risky: boolean;
  reasons: RiskReason[];
}

const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'fish', 'ash']);
const INTERPRETERS = new Set([
  ...SHELLS,
  'python',
  'python3',
  'node',
  'perl',
  'ruby',
  'php',
  'deno',
  'bun',
  'tsx',
  'ts-node',
  'esno',
  'vite-node',
]);
/** TypeScript runners take node's flags and run JavaScript. */
const NODE_LIKE = new Set(['tsx', 'ts-node', 'esno', 'vite-node']);
/** Programs that run a command given to them after their own options and one operand. */
const WRAPPERS_WITH_OPERAND = new Set(['flock', 'chroot']);
/** Wrappers that run the rest of their arguments as a command. */
const WRAPPERS = new Set([
  'setsid',
  'strace',
  'ltrace',
  'unshare',
  'valgrind',
  'fakeroot',
  'firejail',
  'nsenter',
  'catchsegv',
  'chronic',
  'unbuffer',
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
  'wget2',
  'lwp-download',
  'lwp-request',
  'gh',
  'kubectl',
  'helm',
  'aws',
  'gcloud',
  'az',
  'doctl',
  'flyctl',
  'vercel',
  'netlify',
  'heroku',
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
  visit(command, withOwnWrites(command, options), add, 0);
  return { risky: reasons.length > 0, reasons };
}

/**
 * Files the command itself writes count as changed, and what was read of them before it ran is not
 * what it runs (`cat > x.sh <<EOF … EOF; sh x.sh`).
 */
function withOwnWrites(command: string, options: CommandRiskOptions): CommandRiskOptions {
  const own = writtenPaths(command, options.workdir);
  if (own.length === 0) return options;
  const files = new Map(options.files ?? []);
  for (const p of own) files.set(p, null);
  return { ...options, files, changed: new Set([...(options.changed ?? []), ...own]) };
}

/**
 * Workspace files a command writes, as far as its text says (redirections, `tee`, `cp`/`mv`/`ln`/
 * `install` targets, `sed -i`, `curl -o`, `wget -O`, `dd of=`), workspace-relative. A program that
 * writes files by itself (`python3 gen.py`) is not seen.
 */
export function writtenPaths(command: string, workdir: string): string[] {
  const out = new Set<string>();
  const note = (raw: string) => {
    const rel = relative(raw, workdir);
    if (rel) out.add(rel);
  };
  const walk = (text: string, depth: number) => {
    const parsed = depth > 4 ? null : parse(text);
    if (!parsed) return;
    for (const inner of parsed.substitutions) walk(inner, depth + 1);
    for (const seg of parsed.segments) {
      for (const r of seg.redirects) note(r);
      const words = unwrap(seg.words, () => {});
      const program = basename(words[0] ?? '');
      const args = words.slice(1);
      const operands = dropOptions(args, new Set(['-t', '--target-directory', '-m', '-o', '-g']));
      if (program === 'tee') for (const a of operands) note(a);
      if (['cp', 'mv', 'ln', 'install', 'rsync'].includes(program) && operands.length > 1) {
        const t = args.findIndex((a) => a === '-t' || a === '--target-directory');
        const dest = t >= 0 ? (args[t + 1] ?? '') : (operands.at(-1) as string);
        note(dest);
        // Copying into a directory: the file keeps its name.
        for (const src of operands.slice(0, t >= 0 ? undefined : -1))
          note(`${dest.replace(/\/+$/, '')}/${basename(src)}`);
      }
      if (program === 'sed' && args.some((a) => /^-[a-zA-Z]*i/.test(a) || a.startsWith('--in-place')))
        for (const a of operands.slice(1)) note(a);
      if (program === 'curl' || program === 'wget')
        for (let i = 0; i < args.length - 1; i++)
          if (['-o', '--output', '-O', '--output-document'].includes(args[i] as string))
            note(args[i + 1] as string);
      if (program === 'dd') for (const a of args) if (a.startsWith('of=')) note(a.slice(3));
      if (['sh', 'bash', 'eval'].includes(program)) {
        const c = args.findIndex((a) => /^-[a-z]*c$/.test(a));
        if (program === 'eval') walk(args.join(' '), depth + 1);
        else if (c >= 0) walk(args[c + 1] ?? '', depth + 1);
      }
    }
  };
  walk(command, 0);
  return [...out];
}

/**
 * The workspace files (relative paths) the policy would like to read to judge `command`, beyond
 * those in `options.files`. Read them, add them to `files` and ask again (a script may run another
 * script) until this is empty, then call `assessCommand`.
 */
export function filesToRead(command: string, options: CommandRiskOptions): string[] {
  const requested = new Set<string>();
  visit(command, { ...withOwnWrites(command, options), requested }, () => {}, 0);
  return [...requested].filter((p) => !options.files?.has(p));
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
  dynamic: 'runs a command whose name is only known when it runs',
  'inline-code': 'runs inline code that starts processes or uses the network',
  script: 'runs a file changed in this task',
  'git-config': 'sets a git option that runs commands',
  'repo-pattern': "matches the repository's approve_commands",
  unparsed: 'could not be read',
};

type Add = (r: RiskReason) => void;

interface Segment {
  words: string[];
  /** Redirection targets (`> file`, `>> file`). */
  redirects: string[];
  /** Input redirections (`< file`): a shell reading one runs it. */
  inputs: string[];
  /** Here-document bodies and here-strings: a shell or interpreter reading one runs it. */
  docs: string[];
  /** The segment reads a pipe (`a | b`: b). */
  piped: boolean;
  text: string;
}

function visit(command: string, options: Ctx, add: Add, depth: number): void {
  if (depth > 6) {
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

/** Variables whose value is a command something runs later (git, editors, shells at start). */
const COMMAND_VARS = new Set([
  'GIT_SSH_COMMAND',
  'GIT_SSH',
  'GIT_PAGER',
  'PAGER',
  'GIT_EDITOR',
  'EDITOR',
  'VISUAL',
  'GIT_EXTERNAL_DIFF',
  'GIT_ASKPASS',
  'SSH_ASKPASS',
  'GIT_PROXY_COMMAND',
  'PROMPT_COMMAND',
]);
/** Variables that make an ordinary program load code of the model's choosing. */
const LOADER_VARS =
  /^(LD_PRELOAD|LD_AUDIT|BASH_ENV|ENV|PYTHONSTARTUP|PERL5OPT|RUBYOPT|NODE_OPTIONS|GIT_CONFIG_PARAMETERS|GIT_CONFIG_COUNT|GIT_CONFIG_KEY_\d+|GIT_CONFIG_GLOBAL|GIT_CONFIG_SYSTEM|GIT_EXEC_PATH|GIT_TEMPLATE_DIR)$/;

/** Judges `NAME=value` words (env prefixes, `export`, a bare assignment). */
function judgeAssignment(word: string, options: Ctx, add: Add, depth: number): void {
  const eq = word.indexOf('=');
  if (eq <= 0) return;
  const name = word.slice(0, eq);
  const value = word.slice(eq + 1);
  if (COMMAND_VARS.has(name) && value.trim()) visit(value, options, add, depth + 1);
  else if (
    LOADER_VARS.test(name) &&
    !(
      name === 'NODE_OPTIONS' && !/(^|\s)(-r|--require|--import|--loader|--experimental-loader)\b/.test(value)
    )
  )
    add({ class: 'dynamic', detail: clip(word) });
}

const NODE_WITH_VALUE = new Set([
  '-r',
  '--require',
  '--import',
  '--loader',
  '--experimental-loader',
  '--env-file',
  '--conditions',
  '-C',
]);
const INLINE_FLAGS: Record<string, ReadonlySet<string>> = {
  node: new Set(['-e', '--eval', '-p', '--print', '-pe']),
  bun: new Set(['-e', '--eval', '-p', '--print']),
  deno: new Set(['eval']),
  perl: new Set(['-e', '-E']),
  ruby: new Set(['-e']),
  php: new Set(['-r']),
  python: new Set(['-c']),
};

function judge(segment: Segment, options: Ctx, add: Add, depth: number): void {
  for (const pattern of options.patterns ?? [])
    if (matchesPattern(pattern, segment.text)) add({ class: 'repo-pattern', detail: pattern });
  for (const target of [...segment.redirects, ...segment.inputs, ...segment.words])
    if (/^\/dev\/(tcp|udp)\//.test(target)) add({ class: 'network', detail: clip(target) });
  for (const target of segment.redirects) {
    if (outsideWorkspace(target, options.workdir, ['/tmp', '/dev']))
      add({ class: 'write', detail: `> ${target}` });
    // .git/hooks run on commit, .git/config holds aliases and sshCommand.
    else if (touchesGitDir(target, options.workdir)) add({ class: 'write', detail: `> ${target}` });
  }
  for (const w of segment.words) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) break;
    judgeAssignment(w, options, add, depth);
  }
  const words = unwrap(segment.words, add);
  const first = words[0] ?? '';
  const program = basename(first);
  if (!program) return;
  const args = words.slice(1);
  const text = clip(words.join(' '));
  // A name only the running shell knows: `$X`, `$(printf cu''rl)`, `{curl,http://x}`, `/usr/bin/cur?`.
  if (first !== '[' && first !== '[[' && /[$*?[{]/.test(first)) {
    add({ class: 'dynamic', detail: text });
    return;
  }
  if (HARMLESS.has(program)) return;
  if (['export', 'declare', 'typeset', 'local', 'readonly'].includes(program)) {
    for (const a of args) judgeAssignment(a, options, add, depth);
    return;
  }
  if (program === 'alias' || program === 'trap') {
    // An alias's or a trap's text runs later.
    for (const a of args) {
      const body = program === 'alias' ? a.slice(a.indexOf('=') + 1) : a;
      if (program === 'trap' && a !== args[0]) break;
      visit(body, options, add, depth + 1);
    }
    return;
  }
  if (program === 'source' || program === '.') {
    if (args[0]) judgeScript(args[0], 'sh', options, add, depth);
    return;
  }
  if (first.includes('/') && insideWorkspace(first, options.workdir)) {
    // `./x.sh`, `scripts/x`: the file's text says what it runs.
    judgeScript(first, null, options, add, depth);
    return;
  }

  if (
    (program === 'eval' || program === 'xargs' || program === 'watch' || program === 'parallel') &&
    args.length > 0
  ) {
    // eval joins its words into one command line; xargs, watch and parallel run theirs as words.
    const line =
      program === 'eval' || program === 'parallel'
        ? args.filter((a) => a !== ':::').join(' ')
        : dropOptions(args, XARGS_WITH_VALUE).map(quoteWord).join(' ');
    visit(line, options, add, depth + 1);
    return;
  }
  if (program === 'script' || program === 'su') {
    const c = args.findIndex((a) => a === '-c' || a === '--command' || /^-[a-z]*c$/.test(a));
    if (c >= 0) visit(args[c + 1] ?? '', options, add, depth + 1);
  }
  if (runsItsOwnCommands(program, args)) add({ class: 'dynamic', detail: text });
  if (program === 'sed') {
    // GNU sed's `e` command and the `e` flag of `s///` run the pattern space as a command.
    const scripts = args.filter((a, i) => !a.startsWith('-') || args[i - 1] === '-e');
    if (
      scripts.some((x) =>
        /(?:^|[;\n{}]|^\d+|\$)\s*e(?:\s|$)|^s(.).*\1.*\1[gpIiMm0-9]*e[gpIiMm0-9]*(?:;|\s|$)/.test(x),
      )
    )
      add({ class: 'inline-code', detail: text });
  }
  if (['awk', 'gawk', 'mawk', 'nawk', 'busybox-awk'].includes(program)) {
    // awk's system(), `print | "cmd"` and `"cmd" | getline` run commands.
    const code = dropOptions(args, new Set(['-F', '-v', '-f'])).at(0) ?? '';
    if (/\bsystem\s*\(|\|\s*["&]|["']\s*\|\s*getline|\|&/.test(code) || args.includes('-f'))
      add({ class: 'inline-code', detail: text });
    return;
  }
  if (INTERPRETERS.has(program) || /^python[23](\.\d+)?$/.test(program)) {
    const family = /^python/.test(program) ? 'python' : NODE_LIKE.has(program) ? 'node' : program;
    const c = args.findIndex((a) => a === '-c' || (SHELLS.has(program) && /^-[a-z]*c$/.test(a)));
    if (c >= 0 && SHELLS.has(program)) {
      visit(args[c + 1] ?? '', options, add, depth + 1);
      return;
    }
    const inline = INLINE_FLAGS[family];
    let e = inline ? args.findIndex((a) => inline.has(a)) : -1;
    const joined = args.findIndex((a) => /^--(eval|print)=/.test(a));
    if (e < 0 && joined >= 0) {
      e = joined;
      args.splice(joined, 1, '--eval', (args[joined] as string).replace(/^--(eval|print)=/, ''));
    }
    const script = SHELLS.has(program) ? shellScriptArg(args) : scriptArg(family, args);
    const module = family === 'python' && args.includes('-m');
    if (segment.piped && e < 0 && !module && (c < 0 || SHELLS.has(program)) && (!script || script === '-'))
      add({ class: 'pipe-to-shell', detail: `| ${program}` });
    if (family === 'python' && args[0] === '-m' && /^pip3?$/.test(args[1] ?? ''))
      judgeInstaller('pip', args.slice(2), text, add);
    if (args.some((a) => /^[a-z][a-z0-9+.-]*:\/\//i.test(a) || (e >= 0 && /https?:\/\//.test(a))))
      add({ class: 'network', detail: text });
    if (e >= 0) {
      const code = args[e + 1] ?? '';
      const hit = codeRisk(code, family, true);
      if (hit) add({ class: 'inline-code', detail: `${hit} in ${text}` });
    }
    // A here-document, a here-string or `< file` fed to a shell or an interpreter is its program.
    if (e < 0 && !module && (c < 0 || SHELLS.has(program)) && (!script || script === '-')) {
      for (const doc of segment.docs)
        if (SHELLS.has(program)) visit(doc, options, add, depth + 1);
        else {
          const hit = codeRisk(doc, family, true);
          if (hit) add({ class: 'inline-code', detail: `${hit} in ${clip(program)} <<…` });
        }
      for (const input of segment.inputs)
        judgeScript(input, SHELLS.has(program) ? 'sh' : family, options, add, depth);
    }
    if (script && script !== '-' && e < 0) {
      judgeScript(script, SHELLS.has(program) ? 'sh' : family, options, add, depth);
      if (family === 'node' && args.includes('--test'))
        for (const f of dropOptions(args, NODE_WITH_VALUE).slice(1))
          judgeScript(f, 'node', options, add, depth);
    }
    if (family === 'node' || family === 'bun')
      for (let i = 0; i < args.length - 1; i++)
        if (
          NODE_WITH_VALUE.has(args[i] as string) &&
          /^(-r|--require|--import|--loader|--experimental-loader)$/.test(args[i] as string)
        )
          judgeScript(args[i + 1] as string, family, options, add, depth);
    if (program === 'bun' && args[0] === 'run' && args[1]) judgePackageScript(args[1], options, add, depth);
    if (program === 'bun') {
      judgeInstaller('bun', args, text, add);
      if (args[0] === 'x') add({ class: 'network', detail: text });
      const names = packageScriptName('bun', args);
      if (names) for (const name of names) judgePackageScript(name, options, add, depth);
    }
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
  if (program === 'git') judgeGit(args, text, options, add, depth);
  if (program === 'docker' || program === 'podman')
    if (['pull', 'push', 'login', 'run', 'build'].includes(args[0] ?? ''))
      add({ class: 'network', detail: text });
  if (INSTALLERS[program]) judgeInstaller(program, args, text, add);
  if (['npm', 'pnpm', 'yarn', 'bun'].includes(program)) {
    const name = packageScriptName(program, args);
    if (name) for (const n of name) judgePackageScript(n, options, add, depth);
  }
  if (program === 'make' || program === 'gmake') judgeMakefile(args, options, add, depth);
}

/** Editors, pagers, debuggers and archivers told to run a command of the model's choosing. */
function runsItsOwnCommands(program: string, args: readonly string[]): boolean {
  const any = (re: RegExp) => args.some((a) => re.test(a));
  switch (program) {
    case 'vi':
    case 'vim':
    case 'nvim':
    case 'ex':
    case 'view':
    case 'ed':
    case 'emacs':
    case 'less':
    case 'more':
      return any(/!|system\s*\(|^--eval|shell-command/);
    case 'man':
      return any(/^(-P|-H|--pager|--html)/);
    case 'gdb':
      return any(/^(-x|-ex|--command|--eval-command|-batch)/);
    case 'tar':
      return any(
        /^--(to-command|checkpoint-action|use-compress-program|rsh-command|info-script|new-volume-script)|^-[a-zA-Z]*[IF]$/,
      );
    case 'zip':
      return any(/^(-TT|--unzip-command)/);
    case 'rsync':
      return any(/^(-e|--rsh)/);
    case 'docker':
    case 'podman':
      return any(/^(exec|compose)$/);
    default:
      return false;
  }
}

/** The first operand of a shell (`bash -x x.sh`: x.sh); options that take a value are skipped. */
function shellScriptArg(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') return args[i + 1];
    if (a === '-o' || a === '+o' || a === '-O' || a === '+O' || a === '--rcfile' || a === '--init-file') {
      i += 1;
      continue;
    }
    if (a.startsWith('-') || a.startsWith('+')) {
      if (a === '-s' || a === '-i') return undefined;
      continue;
    }
    return a;
  }
  return undefined;
}

/** The program file of `python3 [-u] x.py`, `node [--flag] x.js` (none for `-m`, `-c`). */
function scriptArg(family: string, args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '-') return a;
    if (family === 'python' && (a === '-m' || a === '-c')) return undefined;
    if (family === 'deno' && (a === 'run' || a === 'test')) continue;
    if (family === 'bun' && ['run', 'test', 'x', 'install', 'add', 'build'].includes(a)) return undefined;
    if (NODE_WITH_VALUE.has(a) || (family === 'python' && ['-W', '-X', '-Q'].includes(a))) {
      i += 1;
      continue;
    }
    if (a.startsWith('-')) continue;
    return a;
  }
  return undefined;
}

/** Code that starts processes, loads code by a computed name, or reaches the network. */
const SPAWN_CODE =
  /child_process|worker_threads|\bexec(File)?Sync\b|\bspawn(Sync)?\s*\(|\bexecFile\s*\(|process\.(binding|dlopen)|\bBun\.spawn|Deno\.(run|Command)|\bos\.(system|popen|exec|spawn|posix_spawn|fork)|\bsubprocess\b|\bpty\b|\bcommands\.getoutput|__import__|importlib|\bctypes\b|(?<![.\w])(system|exec|eval|popen|shell_exec|passthru|proc_open)\s*\(|\bIO\.popen|\bOpen3\b|\bKernel\.(system|exec|spawn)|\bnew Function\b|\bvm\.run|\brequire\s*\(\s*[^'"\s)]|\bimport\s*\(\s*[^'"\s)]|\b(require|import)\s*\(\s*['"][^'"]*['"]\s*\+/;
const NETWORK_CODE =
  /\bfetch\s*\(|XMLHttpRequest|WebSocket|\burllib|\brequests\b|http\.client|\bhttplib|\bsocket\b|\bsmtplib|\bftplib|\bnode:(net|http|https|dgram|tls|dns|http2)\b|require\s*\(\s*['"](net|http|https|dgram|tls|dns|http2)['"]|Net::|LWP::|IO::Socket|HTTP::Tiny|open-uri|Net::HTTP|curl_init|fsockopen|file_get_contents\s*\(\s*['"]https?:/;
/** Perl and Ruby run commands in backticks and qx{}; perl's open() with a pipe. */
const BACKTICK_CODE = /`|\bqx\s*[^\s\w]|\bopen\s*\(?[^;]*\||\b(system|exec|spawn|syscall|fork)\b|%x[^\w\s]/;
const DELETE_CODE =
  /\brmtree\b|\brmSync\b|\bfs\.rm\b|\bunlinkSync\b|\bos\.(remove|unlink|rmdir|removedirs)\b|\bunlink\s*\(|\bFileUtils\.rm|\bFile\.delete\b/;

/** What in `code` makes running it worth a question (null when nothing does). */
export function codeRisk(code: string, family: string, inline: boolean): string | null {
  const m =
    code.match(SPAWN_CODE) ??
    code.match(NETWORK_CODE) ??
    (family === 'perl' || family === 'ruby' ? code.match(BACKTICK_CODE) : null) ??
    (inline ? code.match(DELETE_CODE) : null);
  return m ? m[0].trim() : null;
}

/** Reads a workspace file from `options.files`, recording the wish when the caller has not read it. */
function fileText(raw: string, options: Ctx): { rel: string; text: string | null } | null {
  if (!insideWorkspace(raw, options.workdir)) return null;
  const rel = relative(raw, options.workdir);
  if (!rel) return null;
  const text = options.files?.get(rel);
  if (text === undefined) options.requested?.add(rel);
  return { rel, text: text ?? null };
}

/**
 * Running a workspace file. A shell script is judged by its text, line by line, like a command
 * (a repository's own `scripts/release.sh` that pushes asks too). Another program (python, node…)
 * is judged only when it was written or edited in this task, by whether its code starts processes
 * or reaches the network. A file changed in this task that cannot be read asks.
 */
function judgeScript(raw: string, family: string | null, options: Ctx, add: Add, depth: number): void {
  if (/[$`]/.test(raw)) {
    add({ class: 'dynamic', detail: clip(raw) });
    return;
  }
  const file = fileText(raw, options);
  if (!file) return;
  const changed = isChanged(file.rel, options);
  if (file.text === null) {
    // Changed and unreadable, or a script not there before the command runs (so the command makes
    // it: `python3 gen.py && sh out.sh`): nobody can say what it does. Without `files` the caller
    // reads nothing, and nothing is known either way.
    // A program for another interpreter (`node dist/index.js` before a build) only when changed.
    if (changed || (options.files !== undefined && (family === 'sh' || family === null)))
      add({ class: 'script', detail: `${file.rel} (could not be read before it runs)`, source: file.rel });
    return;
  }
  const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(file.text);
  const interpreter = shebang
    ? basename(shebang[1] === '/usr/bin/env' ? (shebang[2] ?? '') : (shebang[1] ?? ''))
    : '';
  const kind =
    family ??
    (shebang && !SHELLS.has(interpreter) ? (/^python/.test(interpreter) ? 'python' : interpreter) : 'sh');
  if (kind === 'sh') {
    visit(file.text, options, fromFile(changed ? add : onlyChanged(add, options), file.rel), depth + 1);
    return;
  }
  if (!changed) return;
  const hit = codeRisk(file.text, kind, false);
  if (hit) add({ class: 'script', detail: `${file.rel}: ${hit}`, source: file.rel });
}

/** Reasons found in a file's text: the detail names the file, `source` the chain of files (`a > b`). */
function fromFile(add: Add, source: string): Add {
  return (r) =>
    add({
      ...r,
      detail: r.source ? r.detail : `${source}: ${r.detail}`,
      source: r.source ? `${source} > ${r.source}` : source,
    });
}

/**
 * A file the task did not change is the repository's own: what it runs is the repository's business
 * (as `npm test` always was), except what leads into a file the task changed (`"test": "sh x.sh"`
 * with x.sh written now).
 */
function onlyChanged(add: Add, options: CommandRiskOptions): Add {
  return (r) => {
    if (sourceFiles(r.source).some((f) => isChanged(f, options))) add(r);
  };
}

/** The workspace files a reason's `source` chain names (`package.json scripts.test > x.sh`). */
export function sourceFiles(source: string | undefined): string[] {
  return source ? source.split(' > ').map((s) => s.split(' ')[0] as string) : [];
}

const NPM_SCRIPT_ALIASES: Record<string, string> = {
  t: 'test',
  tst: 'test',
  test: 'test',
  start: 'start',
  stop: 'stop',
  restart: 'restart',
};
const NPM_INSTALL = new Set(['install', 'i', 'ci', 'add', 'install-test', 'it', 'rebuild']);
const LIFECYCLE = ['preinstall', 'install', 'postinstall', 'preprepare', 'prepare', 'postprepare'];
/** Commands of yarn and pnpm that are not `package.json` scripts. */
const PM_BUILTINS = new Set([
  'add',
  'audit',
  'bin',
  'cache',
  'config',
  'create',
  'dedupe',
  'dlx',
  'exec',
  'info',
  'init',
  'install',
  'i',
  'link',
  'list',
  'ls',
  'outdated',
  'pack',
  'publish',
  'rebuild',
  'remove',
  'rm',
  'root',
  'store',
  'unlink',
  'up',
  'update',
  'upgrade',
  'why',
  'workspace',
  'workspaces',
  'version',
  'versions',
  'help',
  'import',
  'prune',
  'fetch',
  'patch',
  'env',
  'setup',
  'login',
  'logout',
  'whoami',
  'node',
  'global',
  'set',
  'plugin',
  'constraints',
]);

/** The `package.json` scripts a package-manager command runs (its lifecycle scripts for installs). */
function packageScriptName(program: string, args: readonly string[]): string[] | null {
  const words = args.filter((a) => !a.startsWith('-'));
  const sub = words[0] ?? '';
  if (program === 'npm') {
    if (NPM_SCRIPT_ALIASES[sub]) return [NPM_SCRIPT_ALIASES[sub] as string];
    if (['run', 'run-script', 'rum', 'urn'].includes(sub)) return words[1] ? [words[1]] : null;
    if (NPM_INSTALL.has(sub)) return LIFECYCLE;
    return null;
  }
  if (program === 'bun')
    return sub === 'run' || !sub ? null : sub === 'install' || sub === 'i' ? LIFECYCLE : null;
  if (sub === 'run') return words[1] ? [words[1]] : null;
  if (sub === '' || sub === 'install' || sub === 'i') return LIFECYCLE;
  if (PM_BUILTINS.has(sub)) return null;
  return [sub];
}

/** A `package.json` script (with its pre- and post- scripts) is judged by its text, always. */
function judgePackageScript(name: string, options: Ctx, add: Add, depth: number): void {
  const file = fileText('package.json', options);
  if (!file) return;
  const changed = isChanged('package.json', options);
  if (file.text === null) {
    if (changed) add({ class: 'script', detail: 'package.json (could not be read)', source: 'package.json' });
    return;
  }
  let scripts: Record<string, unknown> = {};
  try {
    const json = JSON.parse(file.text) as { scripts?: Record<string, unknown> };
    scripts = json && typeof json.scripts === 'object' && json.scripts ? json.scripts : {};
  } catch {
    if (changed) add({ class: 'script', detail: 'package.json (not valid JSON)', source: 'package.json' });
    return;
  }
  for (const key of [`pre${name}`, name, `post${name}`]) {
    const body = scripts[key];
    if (typeof body === 'string' && body.trim())
      visit(
        body,
        options,
        fromFile(changed ? add : onlyChanged(add, options), `package.json scripts.${key}`),
        depth + 1,
      );
  }
}

/**
 * `make`: when the Makefile was written or edited in this task, every recipe line is judged like a
 * command (variables defined in the Makefile substituted once; `$(MAKE)` is make). An unchanged
 * Makefile is the repository's own.
 */
function judgeMakefile(args: readonly string[], options: Ctx, add: Add, depth: number): void {
  // `$(MAKE) -C sub` in a recipe: this Makefile is being judged already (a sub-make's is not read).
  if (options.inMakefile) return;
  const f = args.findIndex((a) => a === '-f' || a === '--file' || a === '--makefile');
  const names = f >= 0 && args[f + 1] ? [args[f + 1] as string] : ['GNUmakefile', 'makefile', 'Makefile'];
  for (const name of names) {
    const rel = relative(name, options.workdir);
    if (!rel || !isChanged(rel, options)) continue;
    const file = fileText(name, options);
    if (!file) continue;
    if (file.text === null) {
      add({ class: 'script', detail: `${rel} (could not be read)`, source: rel });
      continue;
    }
    const vars = new Map<string, string>([['MAKE', 'make']]);
    for (const m of file.text.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)\s*[:?+]?=\s*(.*)$/gm))
      vars.set(m[1] as string, m[2] as string);
    const recipes = file.text
      .split('\n')
      .filter((l) => l.startsWith('\t'))
      .map((l) => l.trim().replace(/^[@+-]+/, ''))
      .map((l) => l.replace(/\$[({]([A-Za-z_][A-Za-z0-9_]*)[)}]/g, (all, v: string) => vars.get(v) ?? all))
      .map((l) => l.replaceAll('$$', '$'));
    for (const line of recipes) visit(line, { ...options, inMakefile: true }, fromFile(add, rel), depth + 1);
  }
}

function relative(raw: string, workdir: string): string | null {
  const root = workdir.replace(/\/+$/, '');
  const resolved = resolveDots(raw.startsWith('/') ? raw : `${root}/${raw}`);
  return resolved?.startsWith(`${root}/`) ? resolved.slice(root.length + 1) : null;
}

function insideWorkspace(raw: string, workdir: string): boolean {
  return !/^~|\$|`/.test(raw) && relative(raw, workdir) !== null;
}

/**
 * `find` deletes with `-delete` (risky when it starts outside the workspace), and runs commands with
 * `-exec`/`-execdir`/`-ok`: those are judged as commands, `{}` standing for where find starts.
 */
function judgeFind(args: readonly string[], options: Ctx, text: string, add: Add, depth: number) {
  const firstOption = args.findIndex((a) => a.startsWith('-') || a === '(' || a === '!');
  const roots = (firstOption < 0 ? args : args.slice(0, firstOption)).filter(Boolean);
  const root = options.workdir.replace(/\/+$/, '');
  const outside = (r: string) =>
    outsideWorkspace(r, options.workdir, ['/tmp']) &&
    resolveDots(r.startsWith('/') ? r : `${root}/${r}`) !== root;
  for (let i = 0; i < args.length - 1; i++)
    if (['-fprint', '-fprint0', '-fprintf', '-fls'].includes(args[i] as string))
      if (outsideWorkspace(args[i + 1] as string, options.workdir, ['/tmp', '/dev']))
        add({ class: 'write', detail: text });
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

/** git configuration keys whose values run commands, or redirect where git talks to. */
const GIT_RUNNING_KEYS =
  /^(alias\.|core\.(sshcommand|pager|editor|fsmonitor|hookspath|askpass|gitproxy|worktree)|sequence\.editor|diff\.external|diff\.[^=]*\.(textconv|command)|merge\.[^=]*\.driver|filter\.|credential\.|gpg\.|url\.|remote\.|include\.|includeif\.|pager\.|interactive\.difffilter|uploadpack\.|receive\.|protocol\.|http\.|submodule\.|mergetool\.|difftool\.)/i;

function judgeGit(args: readonly string[], text: string, options: Ctx, add: Add, depth: number): void {
  // `git -C dir push`: skip the global options first; `-c key=value` may run commands.
  let i = 0;
  while (i < args.length && (args[i] ?? '').startsWith('-')) {
    const a = args[i] as string;
    if (a === '-c' && GIT_RUNNING_KEYS.test(args[i + 1] ?? '')) add({ class: 'git-config', detail: text });
    if (/^--(config-env|exec-path)(=|$)/.test(a)) add({ class: 'git-config', detail: text });
    i += ['-C', '-c', '--git-dir', '--work-tree', '--namespace'].includes(a) ? 2 : 1;
  }
  const sub = args[i] ?? '';
  const rest = args.slice(i + 1);
  if (sub === 'push') add({ class: 'push', detail: text });
  if (sub === 'push' || GIT_NETWORK.has(sub)) add({ class: 'network', detail: text });
  if (sub === 'reset' && rest.includes('--hard')) add({ class: 'reset', detail: text });
  if (sub === 'clean' && rest.some((a) => /^-[a-zA-Z]*x/.test(a))) add({ class: 'reset', detail: text });
  if (sub === 'checkout' && rest.includes('--') && rest.includes('.')) add({ class: 'reset', detail: text });
  // `git config alias.x '!curl …'`, core.sshCommand, core.hooksPath…: later git commands run them.
  if (sub === 'config' && rest.some((a) => GIT_RUNNING_KEYS.test(a) && !rest.includes('--get')))
    if (
      !rest.some((a) => /^--(get|get-all|get-regexp|list|unset|unset-all)$|^-l$/.test(a)) ||
      rest.length > 2
    )
      add({ class: 'git-config', detail: text });
  if (sub === 'rebase')
    for (let j = 0; j < rest.length; j++) {
      const a = rest[j] as string;
      if (a === '-x' || a === '--exec') visit(rest[j + 1] ?? '', options, add, depth + 1);
      else if (a.startsWith('--exec=')) visit(a.slice(7), options, add, depth + 1);
    }
  if (sub === 'bisect' && rest[0] === 'run')
    visit(rest.slice(1).map(quoteWord).join(' '), options, add, depth + 1);
  if (
    sub === 'filter-branch' ||
    ((sub === 'difftool' || sub === 'mergetool') && rest.some((a) => /^(-x|--extcmd)/.test(a)))
  )
    add({ class: 'dynamic', detail: text });
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

const SHELL_KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', 'coproc']);

/** Strips env assignments and wrappers (`FOO=1 sudo -E env BAR=2 nohup npm i` -> `npm i`). */
function unwrap(words: readonly string[], add: Add): string[] {
  let rest = [...words];
  for (let guard = 0; guard < 10; guard++) {
    while (rest[0] !== undefined && /^[A-Za-z_][A-Za-z0-9_]*=/.test(rest[0])) rest = rest.slice(1);
    // Reserved words in front of a command (`if git push; then`, `do curl …`, `! git push`).
    if (SHELL_KEYWORDS.has(rest[0] ?? '')) {
      rest = rest.slice(1);
      continue;
    }
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
      while (rest[0]?.startsWith('-')) {
        const opt = rest[0];
        // `env -S 'curl http://x'`: one argument split into words.
        const split = /^(-S|--split-string)(=?)(.*)$/.exec(opt);
        if (split) {
          const value = split[3] || split[2] ? (split[3] ?? '') : (rest[1] ?? '');
          rest = [...value.split(/\s+/).filter(Boolean), ...rest.slice(split[3] || split[2] ? 1 : 2)];
          break;
        }
        rest = rest.slice(['-u', '-C', '--unset', '--chdir'].includes(opt) ? 2 : 1);
      }
      continue;
    }
    if (WRAPPERS_WITH_OPERAND.has(head)) {
      rest = rest.slice(1);
      while (rest[0]?.startsWith('-')) rest = rest.slice(1);
      if (head === 'flock' && (rest[1] === '-c' || rest[1] === '--command'))
        rest = ['sh', '-c', ...rest.slice(2)];
      else rest = rest.slice(1);
      continue;
    }
    if (head === 'busybox' || head === 'toybox') {
      rest = rest.slice(1);
      continue;
    }
    if ((head === 'command' || head === 'type') && /^-[a-zA-Z]*[vV]/.test(rest[1] ?? '')) return [];
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
  let inputs: string[] = [];
  let docs: string[] = [];
  /** Here-documents whose bodies start at the next newline. */
  let pendingDocs: { delimiter: string; strip: boolean; into: string[] }[] = [];
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
    if (words.length > 0 || redirects.length > 0 || docs.length > 0)
      segments.push({ words, redirects, inputs, docs, piped, text: command.slice(start, i).trim() });
    words = [];
    redirects = [];
    inputs = [];
    docs = [];
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
      if (ch === '\n' && pendingDocs.length > 0) {
        // The here-documents' bodies: data for the command that asked for them, not commands.
        for (const doc of pendingDocs) {
          const body: string[] = [];
          let found = false;
          while (i < n) {
            const eol = command.indexOf('\n', i);
            const line = command.slice(i, eol < 0 ? n : eol);
            i = eol < 0 ? n : eol + 1;
            if ((doc.strip ? line.replace(/^\t+/, '') : line) === doc.delimiter) {
              found = true;
              break;
            }
            body.push(line);
          }
          doc.into.push(body.join('\n'));
          if (!found) break;
        }
        pendingDocs = [];
      }
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
      if (command[j] === '(') {
        // Process substitution `<(cmd)` / `>(cmd)`: judged on its own, a name nobody can read here.
        const close = matchParen(command, j);
        if (close < 0) return null;
        substitutions.push(command.slice(j + 1, close));
        word += '$SUBST';
        inWord = true;
        i = close + 1;
        continue;
      }
      if (ch === '<') {
        if (command[j] === '<' && command[j + 1] === '<') {
          // A here-string: its word is data (the program of a shell that reads it).
          const rest = parse(`: ${command.slice(j + 2)}`);
          const first = rest?.segments[0]?.words[1] ?? '';
          docs.push(first);
          endWord();
          j += 2;
          while (j < n && (command[j] === ' ' || command[j] === '\t')) j += 1;
          const quote = command[j];
          if (quote === "'" || quote === '"') {
            const close = command.indexOf(quote, j + 1);
            j = close < 0 ? n : close + 1;
          } else while (j < n && !/[\s;&|()<>]/.test(command[j] as string)) j += 1;
          i = j;
          continue;
        }
        if (command[j] === '<') {
          // A here-document: `<<EOF`, `<<-EOF`, `<<'EOF'`; its body follows the line.
          endWord();
          j += 1;
          const strip = command[j] === '-';
          if (strip) j += 1;
          while (j < n && (command[j] === ' ' || command[j] === '\t')) j += 1;
          const m = /^(['"]?)([^\s;&|()<>'"]+)\1/.exec(command.slice(j));
          if (!m) return null;
          pendingDocs.push({ delimiter: m[2] as string, strip, into: docs });
          i = j + m[0].length;
          continue;
        }
        // Input redirection: the file is read, not written.
        endWord();
        while (j < n && (command[j] === ' ' || command[j] === '\t')) j += 1;
        const from = j;
        while (j < n && !/[\s;&|()<>]/.test(command[j] as string)) j += 1;
        const target = command.slice(from, j).replace(/^['"]|['"]$/g, '');
        if (target) inputs.push(target);
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
