-- "Newest first" must not depend on the clock's resolution: PGlite's now() has millisecond
-- precision, so two memories saved in one millisecond tie. A sequence gives the insertion order.
ALTER TABLE memories ADD COLUMN IF NOT EXISTS seq bigserial;

CREATE INDEX IF NOT EXISTS memories_repo_seq_idx ON memories (repo, seq DESC);
