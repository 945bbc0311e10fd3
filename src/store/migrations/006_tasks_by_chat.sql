-- /status and /cancel find a chat's tasks in SQL, however many tasks other chats have.
CREATE INDEX IF NOT EXISTS tasks_telegram_chat_idx
  ON tasks ((origin->>'chatId'), created_at DESC)
  WHERE source = 'telegram';
