-- What produced each preview, so an ended preview of a repository can be rebuilt (issue 17).
CREATE TABLE IF NOT EXISTS previews (
  token text PRIMARY KEY,
  task_id uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  repo text,
  branch text,
  commit_sha text,
  command text,
  port integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
