-- devbot's pull requests (issue 16): their fate, review rounds, CI-fix attempts and the autofix
-- switch. One row per pull request, created by whichever of these is recorded first.
CREATE TABLE IF NOT EXISTS pull_requests (
  repo TEXT NOT NULL,
  number INTEGER NOT NULL,
  task_id TEXT,
  outcome TEXT NOT NULL DEFAULT 'open',
  review_rounds INTEGER NOT NULL DEFAULT 0,
  ci_fix_attempts INTEGER NOT NULL DEFAULT 0,
  autofix BOOLEAN NOT NULL DEFAULT TRUE,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (repo, number)
);
CREATE INDEX IF NOT EXISTS pull_requests_task ON pull_requests (task_id);
