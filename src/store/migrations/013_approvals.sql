-- Approvals (issue 18): a task may wait for a person (status 'waiting'), holding no worker slot and
-- no sandbox; what it waits on is stored here, so a restart of every process loses nothing.
ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_status_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_status_check
  CHECK (status IN ('queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'));

CREATE TABLE IF NOT EXISTS task_approvals (
  task_id uuid PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('plan')),
  plan jsonb NOT NULL,
  -- 1 for the first plan, +1 per revision: a button of an older round is stale.
  round integer NOT NULL DEFAULT 1,
  requested_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  -- NULL while the task waits; set when a person decided (or the request expired).
  decided_at timestamptz,
  decided_by text,
  decision text
);

-- The expiry sweep finds what still waits, oldest deadline first.
CREATE INDEX IF NOT EXISTS task_approvals_open_idx ON task_approvals (expires_at) WHERE decided_at IS NULL;

-- `/devbot go|revise` and steering comments find the task at work on an issue.
CREATE INDEX IF NOT EXISTS tasks_github_issue_active_idx
  ON tasks (repo, (origin->>'issueNumber'))
  WHERE source = 'github' AND status IN ('queued', 'running', 'waiting');
