/**
 * Turns the text of a message addressed to the bot into a command. Pure: the bot decides what to
 * do with it. `/cmd@OtherBot` is not for us; `$ cmd` is the shell shorthand; anything else is a
 * task for the intent router.
 */

export type ChatCommand =
  | { type: 'start' }
  | { type: 'help' }
  | { type: 'repo'; repo: string | null }
  /** `/link owner/name` subscribes the chat to devbot's PRs there; `/link` alone lists the links. */
  | { type: 'link'; repo: string | null }
  /** `/unlink owner/name` removes one link; `/unlink` alone removes every link of the chat. */
  | { type: 'unlink'; repo: string | null }
  | { type: 'task'; kind: 'dev' | 'auto'; prompt: string }
  | { type: 'shell'; command: string }
  | { type: 'status' }
  | { type: 'reset' }
  /** Link this Telegram user to a GitHub login by signing in with GitHub. */
  | { type: 'login' }
  | { type: 'cancel'; taskId: string | null }
  /** A known command used wrongly: answer with how to use it. */
  | { type: 'usage'; command: string; usage: string; error?: string }
  | { type: 'unknown'; command: string }
  /** Addressed to another bot (`/cmd@other_bot`). */
  | { type: 'ignore' };

/** The commands registered with setMyCommands, with their menu descriptions. */
export const BOT_COMMANDS = [
  { command: 'start', description: 'Who I am and how to start' },
  { command: 'new_task', description: 'Start a development task: /new_task <what to do>' },
  { command: 'sh', description: 'Run a shell command in this chat’s sandbox: /sh <command>' },
  { command: 'repo', description: 'Bind this chat to a repository: /repo owner/name' },
  { command: 'link', description: 'Hear about devbot’s pull requests in a repository: /link owner/name' },
  { command: 'unlink', description: 'Stop hearing about a repository: /unlink [owner/name]' },
  { command: 'status', description: 'Running and recent tasks of this chat' },
  { command: 'cancel', description: 'Cancel a task: /cancel [task id]' },
  { command: 'reset', description: 'Start over with an empty sandbox (deletes its files)' },
  { command: 'login', description: 'Sign in with GitHub, so I act with your GitHub access' },
  { command: 'help', description: 'What I can do' },
] as const;

export const USAGE: Record<string, string> = {
  new_task: '/new_task <what to do>, e.g. /new_task add a dark-mode toggle',
  sh: '/sh <command>, e.g. /sh ls -la (or write: $ ls -la)',
  repo: '/repo owner/name, e.g. /repo octocat/hello-world',
  link: '/link owner/name, e.g. /link octocat/hello-world (/link alone lists this chat’s links)',
  unlink: '/unlink owner/name, or /unlink alone to remove every link of this chat',
};

const REPO = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** `owner/name`, a GitHub URL or `owner/name.git`, normalised to `owner/name`; null when invalid. */
export function normalizeRepo(input: string): string | null {
  let s = input.trim();
  const url = /^(?:https?:\/\/)?(?:www\.)?github\.com\/([^/\s]+\/[^/\s]+?)(?:\.git)?\/?$/i.exec(s);
  if (url?.[1]) s = url[1];
  s = s.replace(/\.git$/, '');
  if (!REPO.test(s) || s.split('/').some((part) => part === '.' || part === '..')) return null;
  return s;
}

/**
 * Parses a message. `botUsername` (without @) lets `/cmd@devbot` through and ignores commands
 * addressed to other bots.
 */
export function parseCommand(text: string, botUsername?: string): ChatCommand | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const shell = /^\$\s+([\s\S]+)$/.exec(trimmed);
  if (shell?.[1]) return { type: 'shell', command: shell[1].trim() };
  const match = /^\/([A-Za-z0-9_]+)(?:@([A-Za-z0-9_]+))?(?:\s+([\s\S]*))?$/.exec(trimmed);
  if (!match) return { type: 'task', kind: 'auto', prompt: trimmed };
  const [, rawName = '', target, rawArgs] = match;
  if (target && botUsername && target.toLowerCase() !== botUsername.toLowerCase()) return { type: 'ignore' };
  const name = rawName.toLowerCase();
  const args = (rawArgs ?? '').trim();
  switch (name) {
    case 'start':
      return { type: 'start' };
    case 'help':
      return { type: 'help' };
    case 'status':
      return { type: 'status' };
    case 'reset':
      return { type: 'reset' };
    case 'login':
      return { type: 'login' };
    case 'cancel':
      return { type: 'cancel', taskId: args === '' ? null : (args.split(/\s+/)[0] ?? null) };
    case 'repo': {
      if (args === '') return { type: 'repo', repo: null };
      const repo = normalizeRepo(args);
      return repo ? { type: 'repo', repo } : { type: 'usage', command: 'repo', usage: USAGE.repo as string };
    }
    case 'link':
    case 'unlink': {
      if (args === '') return { type: name, repo: null };
      const repo = normalizeRepo(args);
      if (repo) return { type: name, repo };
      const shown = args.length > 80 ? `${args.slice(0, 79)}…` : args;
      return {
        type: 'usage',
        command: name,
        usage: USAGE[name] as string,
        error: `“${shown}” is not a repository name: owner/name, letters, digits, . _ - (and not . or ..)`,
      };
    }
    case 'new_task':
    case 'newtask':
    case 'task':
      return args === ''
        ? { type: 'usage', command: 'new_task', usage: USAGE.new_task as string }
        : { type: 'task', kind: 'dev', prompt: args };
    case 'sh':
    case 'shell':
      return args === ''
        ? { type: 'usage', command: 'sh', usage: USAGE.sh as string }
        : { type: 'shell', command: args };
    default:
      return { type: 'unknown', command: name };
  }
}
