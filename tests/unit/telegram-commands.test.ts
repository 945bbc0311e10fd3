import type { Message } from 'grammy/types';
import { describe, expect, it } from 'vitest';
import {
  addressedToBot,
  allowedUserIds,
  isAllowedUser,
  type MessageLike,
} from '../../src/telegram/access.js';
import { ChatCommands } from '../../src/telegram/chat-commands.js';
import { normalizeRepo, parseCommand } from '../../src/telegram/parse-command.js';

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

describe('/login', () => {
  const asked: string[] = [];
  const commands = (loginLink?: (subject: string) => Promise<string | null>) =>
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
  const link = async (subject: string) => {
    asked.push(subject);
    return `https://devbot.example/auth/github/start?state=s-${subject}`;
  };

  it('sends the asker a one-time link for themselves, only in a private chat', async () => {
    const answer = await commands(link).answer({ type: 'login' }, message('private'));
    expect(answer).toContain('href="https://devbot.example/auth/github/start?state=s-tg:77"');
    expect(await commands(link).answer({ type: 'login' }, message('group'))).toMatch(/private chat/);
    expect(asked).toEqual(['tg:77']);
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
