-- Read-only share links of task pages (issue 17): only a hash of each token is stored.
CREATE TABLE IF NOT EXISTS share_links (
  task_id uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  generation integer NOT NULL,
  token_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  PRIMARY KEY (task_id, generation)
);
