-- API tokens devbot issued (devbot token, POST /tokens), so they can be listed and revoked. A
-- revocation of a token that was never recorded (signed with DEVBOT_JWT_SECRET where no store
-- answered) is kept as a row with an unknown subject.
CREATE TABLE IF NOT EXISTS api_tokens (
  jti TEXT PRIMARY KEY,
  subject TEXT,
  scopes TEXT NOT NULL DEFAULT '',
  issued_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at TIMESTAMPTZ,
  revoked_at TIMESTAMPTZ
);

CREATE INDEX IF NOT EXISTS api_tokens_revoked ON api_tokens (revoked_at) WHERE revoked_at IS NOT NULL;
