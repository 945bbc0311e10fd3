-- Command approval (issue 18, `approval: commands`): a risky command the model wants to run waits
-- for a person inside the running task. The request and its decision live here, so the answer can
-- come to any process (the bot, the gateway) and the waiting worker reads it; "Allow for this
-- task" is a decided row the next identical (normalized) command finds.
CREATE TABLE IF NOT EXISTS command_approvals (
  id uuid PRIMARY KEY,
  task_id uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  command text NOT NULL,
  normalized text NOT NULL,
  reasons text NOT NULL,
  requested_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  -- NULL while the command waits.
  decided_at timestamptz,
  decided_by text,
  decision text CHECK (decision IN ('allowed_once', 'allowed_task', 'denied', 'expired'))
);

CREATE INDEX IF NOT EXISTS command_approvals_task_idx ON command_approvals (task_id, requested_at);
