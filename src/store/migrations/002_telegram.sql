-- Telegram: what each chat is bound to, and which updates were already handled (DESIGN.md §3).
CREATE TABLE IF NOT EXISTS chat_bindings (
  chat_id bigint PRIMARY KEY,
  chat_type text NOT NULL DEFAULT 'private',
  repo text,
  -- The chat's persistent sandbox (shell fast lane), its working directory and recent commands.
  sandbox_id text,
  shell_cwd text,
  shell_history jsonb NOT NULL DEFAULT '[]'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per update a bot has claimed: a redelivered update (same bot, same update_id) is
-- recognised and does nothing, even after a restart.
CREATE TABLE IF NOT EXISTS telegram_updates (
  bot_id bigint NOT NULL,
  update_id bigint NOT NULL,
  chat_id bigint,
  task_id uuid,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (bot_id, update_id)
);

CREATE INDEX IF NOT EXISTS telegram_updates_received_at_idx ON telegram_updates (received_at);
