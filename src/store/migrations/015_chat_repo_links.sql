-- Chats subscribed to devbot's pull-request events of a repository (`/link owner/repo`, issue 16).
-- repo is lower case (GitHub's names are case-insensitive); linked_by is the Telegram subject.
CREATE TABLE IF NOT EXISTS chat_repo_links (
  chat_id BIGINT NOT NULL,
  repo TEXT NOT NULL,
  thread_id BIGINT,
  linked_by TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (chat_id, repo)
);
CREATE INDEX IF NOT EXISTS chat_repo_links_repo ON chat_repo_links (repo);
