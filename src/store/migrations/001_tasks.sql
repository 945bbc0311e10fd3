-- Tasks and their append-only events (DESIGN.md §3).
CREATE TABLE IF NOT EXISTS tasks (
  id uuid PRIMARY KEY,
  source text NOT NULL CHECK (source IN ('telegram', 'github', 'api')),
  origin jsonb NOT NULL DEFAULT '{}'::jsonb,
  requester text NOT NULL,
  repo text,
  kind text NOT NULL CHECK (kind IN ('auto', 'shell', 'dev', 'question', 'followup')),
  prompt text NOT NULL,
  input jsonb NOT NULL DEFAULT '{}'::jsonb,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  idempotency_key text UNIQUE,
  branch text,
  pr_url text,
  preview_url text,
  result_summary text,
  result jsonb,
  error text,
  usage jsonb NOT NULL DEFAULT '{}'::jsonb,
  attempts integer NOT NULL DEFAULT 0,
  event_seq integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS tasks_created_at_idx ON tasks (created_at DESC);

CREATE INDEX IF NOT EXISTS tasks_unfinished_idx ON tasks (status) WHERE status IN ('queued', 'running');

CREATE INDEX IF NOT EXISTS tasks_requester_idx ON tasks (requester, created_at DESC);

CREATE TABLE IF NOT EXISTS task_events (
  task_id uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  seq integer NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  type text NOT NULL,
  data jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (task_id, seq)
);
