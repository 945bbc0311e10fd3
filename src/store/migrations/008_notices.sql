-- Notices posted at most once (a refusal to an outsider per issue and day), across restarts.
CREATE TABLE IF NOT EXISTS notices (
  key TEXT PRIMARY KEY,
  at TIMESTAMPTZ NOT NULL DEFAULT now()
);
