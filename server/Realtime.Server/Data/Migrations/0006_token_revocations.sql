-- A user's tokens issued at or before this instant are refused (REST revoke_tokens); their
-- terminals were closed when it was set. NULL: nothing revoked.
ALTER TABLE users ADD COLUMN tokens_revoked_at timestamptz;
