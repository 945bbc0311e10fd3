import type { Message } from 'grammy/types';
import { describe, expect, it } from 'vitest';
import { type ChatRepoLink, type ChatRepoLinks, ForbiddenError } from '../../src/core/index.js';
import {
  addressedToBot,
  allowedUserIds,
  isAllowedUser,
  type MessageLike,
} from '../../src/telegram/access.js';
import { ChatCommands, type ChatCommandsDeps } from '../../src/telegram/chat-commands.js';
import { BOT_COMMANDS, normalizeRepo, parseCommand } from '../../src/telegram/parse-command.js';

describe('parseCommand', () => {
  it('parses each command', () => {
    expect(parseCommand('/start')).toEqual({ type: 'start' });
    expect(parseCommand('/help')).toEqual({ type: 'help' });
    expect(parseCommand('/status')).toEqual({ type: 'status' });
    expect(parseCommand('/reset')).toEqual({ type: 'reset' });
    expect(parseCommand('/login')).toEqual({ type: 'login' });
    expect(parseCommand('/cancel')).toEqual({ type: 'cancel', taskId: null });
    expect(parseCommand('/cancel 0b7c9a52')).toEqual({ type: 'cancel', taskId: '0b7c9a52' });
    expect(parseCommand('/repo octo/hello')).toEqual({ type: 'repo', repo: 'octo/hello' });
    expect(parseCommand('/repo')).toEqual({ type: 'repo', repo: null });
    expect(parseCommand('/new_task add a dark-mode toggle')).toEqual({
      type: 'task',
      kind: 'dev',
      prompt: 'add a dark-mode toggle',
    });
    expect(parseCommand('/sh ls -la')).toEqual({ type: 'shell', command: 'ls -la' });
  });

  it('keeps multi-line arguments', () => {
    expect(parseCommand('/sh echo a\necho b')).toEqual({ type: 'shell', command: 'echo a\necho b' });
  });

  it('takes `$ cmd` as the shell shorthand, but not a price', () => {
    expect(parseCommand('$ npm test')).toEqual({ type: 'shell', command: 'npm test' });
    expect(parseCommand('$5 is the price')).toEqual({
      type: 'task',
      kind: 'auto',
      prompt: '$5 is the price',
    });
  });

  it('sends plain text to the router as an auto task', () => {
    expect(parseCommand('  make the header blue ')).toEqual({
      type: 'task',
      kind: 'auto',
      prompt: 'make the header blue',
    });
    expect(parseCommand('   ')).toBeNull();
  });

  it('answers with usage when a required argument is missing or wrong', () => {
    expect(parseCommand('/sh')).toMatchObject({ type: 'usage', command: 'sh' });
    expect(parseCommand('/new_task')).toMatchObject({ type: 'usage', command: 'new_task' });
    expect(parseCommand('/repo not a repo')).toMatchObject({ type: 'usage', command: 'repo' });
  });

  it('honours /cmd@bot: ours is parsed, another bot’s is ignored', () => {
    expect(parseCommand('/sh@devbot_test_bot pwd', 'devbot_test_bot')).toEqual({
      type: 'shell',
      command: 'pwd',
    });
    expect(parseCommand('/sh@other_bot pwd', 'devbot_test_bot')).toEqual({ type: 'ignore' });
    expect(parseCommand('/frobnicate')).toEqual({ type: 'unknown', command: 'frobnicate' });
  });

  it('/link and /unlink: a repository, or none (list / remove all); a bad name is a clear error', () => {
    expect(parseCommand('/link octo/hello')).toEqual({ type: 'link', repo: 'octo/hello' });
    expect(parseCommand('/link https://github.com/octo/hello')).toEqual({ type: 'link', repo: 'octo/hello' });
    expect(parseCommand('/link@devbot_test_bot octo/hello', 'devbot_test_bot')).toEqual({
      type: 'link',
      repo: 'octo/hello',
    });
    expect(parseCommand('/link')).toEqual({ type: 'link', repo: null });
    expect(parseCommand('/unlink octo/hello')).toEqual({ type: 'unlink', repo: 'octo/hello' });
    expect(parseCommand('/UNLINK')).toEqual({ type: 'unlink', repo: null });
    for (const bad of ['../etc', 'octo/..', './x', 'octo', 'octo/hello/extra', 'a b/c', 'octo/<b>']) {
      const parsed = parseCommand(`/link ${bad}`);
      expect(parsed, bad).toMatchObject({ type: 'usage', command: 'link' });
      expect((parsed as { error?: string }).error).toContain('is not a repository name');
    }
    expect(parseCommand('/unlink ..')).toMatchObject({ type: 'usage', command: 'unlink' });
    // A long bad argument is cut in the error.
    const long = parseCommand(`/link ${'x'.repeat(500)}`) as { error: string };
    expect(long.error.length).toBeLessThan(200);
  });

  it('lists /link and /unlink in the command menu', () => {
    expect(BOT_COMMANDS.map((c) => c.command)).toEqual(expect.arrayContaining(['link', 'unlink']));
  });

  it('normalises repository names and URLs', () => {
    expect(normalizeRepo('https://github.com/octo/hello.git')).toBe('octo/hello');
    expect(normalizeRepo('octo/hello')).toBe('octo/hello');
    expect(normalizeRepo('../etc')).toBeNull();
    expect(normalizeRepo('octo/..')).toBeNull();
    expect(normalizeRepo('octo')).toBeNull();
  });
});

describe('access rules', () => {
  const allowed = allowedUserIds(['42', ' 7 ', 'alice', '']);
  const bot = { id: 999, username: 'devbot_test_bot' };

  it('fails closed: only listed numeric ids', () => {
    expect([...allowed].sort()).toEqual([42, 7].sort());
    expect(isAllowedUser(42, allowed)).toBe(true);
    expect(isAllowedUser(43, allowed)).toBe(false);
    expect(isAllowedUser(undefined, allowed)).toBe(false);
    expect(isAllowedUser(42, allowedUserIds([]))).toBe(false);
  });

  const group = (fields: Partial<MessageLike>): MessageLike => ({
    chat: { id: -100, type: 'group' },
    from: { id: 42 },
    ...fields,
  });

  it('answers everything in a private chat', () => {
    expect(addressedToBot({ chat: { id: 42, type: 'private' }, text: 'hello' }, bot)).toEqual({
      addressed: true,
      text: 'hello',
    });
  });

  it('in groups, answers only a mention, a reply to the bot, or /cmd@bot', () => {
    expect(addressedToBot(group({ text: 'hello all' }), bot).addressed).toBe(false);
    expect(addressedToBot(group({ text: '/sh ls' }), bot).addressed).toBe(false);
    expect(
      addressedToBot(
        group({
          text: '@DevBot_Test_Bot run the tests',
          entities: [{ type: 'mention', offset: 0, length: 16 }],
        }),
        bot,
      ),
    ).toEqual({ addressed: true, text: 'run the tests' });
    expect(
      addressedToBot(
        group({ text: '@someone_else hi', entities: [{ type: 'mention', offset: 0, length: 13 }] }),
        bot,
      ).addressed,
    ).toBe(false);
    expect(
      addressedToBot(group({ text: 'yes please', reply_to_message: { from: { id: 999 } } }), bot),
    ).toEqual({
      addressed: true,
      text: 'yes please',
    });
    expect(addressedToBot(group({ text: 'no', reply_to_message: { from: { id: 5 } } }), bot).addressed).toBe(
      false,
    );
    expect(
      addressedToBot(
        group({ text: '/sh@devbot_test_bot ls', entities: [{ type: 'bot_command', offset: 0, length: 19 }] }),
        bot,
      ),
    ).toEqual({ addressed: true, text: '/sh@devbot_test_bot ls' });
  });

  it('without a known username, still answers replies and text mentions', () => {
    const anon = { id: 999 };
    expect(
      addressedToBot(group({ text: 'x', reply_to_message: { from: { id: 999 } } }), anon).addressed,
    ).toBe(true);
    expect(
      addressedToBot(
        group({
          text: 'Bot do it',
          entities: [{ type: 'text_mention', offset: 0, length: 3, user: { id: 999 } }],
        }),
        anon,
      ),
    ).toEqual({ addressed: true, text: 'do it' });
  });
});

describe('/link and /unlink answers', () => {
  /** ChatRepoLinks in memory (the SQL one is tested in tests/integration/store.test.ts). */
  function memoryLinks(): ChatRepoLinks {
    const rows: ChatRepoLink[] = [];
    return {
      async link(l, max) {
        const repo = l.repo.toLowerCase();
        const mine = rows.filter((r) => r.chatId === l.chatId);
        const known = mine.find((r) => r.repo === repo);
        if (known) return 'updated';
        if (mine.length >= max) return { full: mine.length };
        rows.push({ ...l, repo, createdAt: new Date() });
        return 'linked';
      },
      async unlink(chatId, repo) {
        const gone = rows.filter((r) => r.chatId === chatId && (repo === undefined || r.repo === repo));
        for (const g of gone) rows.splice(rows.indexOf(g), 1);
        return gone.map((g) => g.repo);
      },
      async list(chatId) {
        return rows.filter((r) => r.chatId === chatId);
      },
      async chatsFor(repo) {
        return rows.filter((r) => r.repo === repo);
      },
    };
  }
  const commands = (deps: Partial<ChatCommandsDeps>) =>
    new ChatCommands({
      bindings: { get: async () => null, setRepo: async () => ({}) as never },
      store: { listTasks: async () => [] },
      ingress: { cancel: async () => null },
      username: () => 'devbot_test_bot',
      ...deps,
    });
  const message = (chatType: 'private' | 'group' = 'group') =>
    ({
      message_id: 1,
      date: 0,
      chat:
        chatType === 'private'
          ? { id: 7, type: 'private', first_name: 'A' }
          : { id: -7, type: 'group', title: 'G' },
      from: { id: 7, is_bot: false, first_name: 'A' },
      text: '',
    }) as Message;

  it('refuses without an authorizer, for local repositories, and past the cap', async () => {
    const links = memoryLinks();
    expect(await commands({ links }).answer({ type: 'link', repo: 'a/b' }, message())).toContain(
      'not available',
    );
    const cmd = commands({ links, authorize: async () => {}, maxLinks: 2 });
    expect(await cmd.answer({ type: 'link', repo: 'local/widgets' }, message())).toMatch(
      /^❌ Local repositories/,
    );
    expect(await cmd.answer({ type: 'link', repo: 'a/one' }, message())).toContain('Everyone in this chat');
    expect(await cmd.answer({ type: 'link', repo: 'a/one' }, message('private'))).not.toContain('Everyone');
    await cmd.answer({ type: 'link', repo: 'a/two' }, message());
    expect(await cmd.answer({ type: 'link', repo: 'a/three' }, message())).toMatch(
      /linked to 2 repositories already/,
    );
    expect(await cmd.answer({ type: 'link', repo: null }, message())).toMatch(/a\/one\n• a\/two/);
    expect(await cmd.answer({ type: 'unlink', repo: 'a/nope' }, message())).toContain('not linked to a/nope');
    expect(await cmd.answer({ type: 'unlink', repo: null }, message())).toContain(
      '<b>a/one</b>, <b>a/two</b>',
    );
    expect(await cmd.answer({ type: 'link', repo: null }, message())).toContain('linked to no repository');
  });

  it('says why a repository cannot be linked: no access, unknown repository', async () => {
    const links = memoryLinks();
    const forbidden = commands({
      links,
      authorize: async () => {
        throw new ForbiddenError('tg:7 may not make devbot change a/b');
      },
    });
    expect(await forbidden.answer({ type: 'link', repo: 'a/b' }, message())).toBe(
      '⛔ tg:7 may not make devbot change a/b',
    );
    const missing = commands({
      links,
      authorize: async () => {
        throw Object.assign(new Error('Not Found'), { status: 404 });
      },
    });
    expect(await missing.answer({ type: 'link', repo: 'a/b' }, message())).toMatch(
      /^❌ devbot cannot see a\/b/,
    );
    expect(await links.list(-7)).toEqual([]);
  });
});

describe('/login', () => {
  const asked: string[] = [];
  const commands = (loginLink?: (subject: string, label?: string) => Promise<string | null>) =>
    new ChatCommands({
      bindings: {
        get: async () => null,
        setRepo: async () => {
          throw new Error('not used');
        },
      },
      store: { listTasks: async () => [] },
      ingress: { cancel: async () => null },
      loginLink,
      username: () => 'devbot_test_bot',
    });
  const message = (type: 'private' | 'group') =>
    ({
      from: { id: 77, first_name: 'A', is_bot: false },
      chat: { id: type === 'private' ? 77 : -5, type },
    }) as Message;
  const labels: Array<string | undefined> = [];
  const link = async (subject: string, label?: string) => {
    asked.push(subject);
    labels.push(label);
    return `https://devbot.example/auth/github/start?state=s-${subject}`;
  };

  it('sends the asker a one-time link for themselves, only in a private chat', async () => {
    const answer = await commands(link).answer({ type: 'login' }, message('private'));
    expect(answer).toContain('href="https://devbot.example/auth/github/start?state=s-tg:77"');
    expect(await commands(link).answer({ type: 'login' }, message('group'))).toMatch(/private chat/);
    expect(asked).toEqual(['tg:77']);
    // The confirmation page names the asker's account.
    expect(labels).toEqual(['Telegram user 77 ("A")']);
  });

  it('says how else to get linked when signing in is not set up', async () => {
    expect(await commands(async () => null).answer({ type: 'login' }, message('private'))).toContain(
      'devbot users link tg:77',
    );
    expect(await commands().answer({ type: 'login' }, message('private'))).toContain(
      'devbot users link tg:77',
    );
  });
});
