-- This deployment's identity: one row, written at the first start (not here, so a database copied
-- from a template before its first start gets its own). Jobs carry it, and the default queue
-- prefix derives from it, so two deployments on one Redis never take each other's tasks.
CREATE TABLE IF NOT EXISTS deployment (
  singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
  id TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
