-- Memories (DESIGN.md §3, issue 7): what devbot learned about a repository in earlier tasks.
-- This file holds only the parts every PostgreSQL has, so `devbot migrate` succeeds on a server
-- without pgvector. The vector column and its HNSW indexes are added by the memory module
-- (src/memory/vector-schema.ts) once `CREATE EXTENSION vector` succeeds; on a server without
-- pgvector memory is disabled with a warning and tasks run without it.
CREATE TABLE IF NOT EXISTS memories (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  repo text NOT NULL,
  kind text NOT NULL,
  content text NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  task_id uuid,
  -- Saving the same thing twice (a reporter seeing an event again) keeps one row.
  dedupe_key text UNIQUE,
  -- Which model produced the stored vector; search only compares vectors of one model.
  embedding_model text,
  embedding_dim integer,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS memories_repo_kind_idx ON memories (repo, kind, created_at DESC);

CREATE INDEX IF NOT EXISTS memories_task_idx ON memories (task_id);

CREATE INDEX IF NOT EXISTS memories_model_idx ON memories (embedding_model);

-- Counts a repository's candidates before a search (exact scan for small repositories).
CREATE INDEX IF NOT EXISTS memories_repo_model_idx ON memories (repo, embedding_model, embedding_dim);
