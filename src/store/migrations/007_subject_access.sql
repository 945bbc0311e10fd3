-- Who may make devbot change which repository, for Telegram and API subjects (devbot users ...).
CREATE TABLE IF NOT EXISTS subject_links (
  subject TEXT PRIMARY KEY,
  login TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS subject_grants (
  subject TEXT NOT NULL,
  pattern TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (subject, pattern)
);
