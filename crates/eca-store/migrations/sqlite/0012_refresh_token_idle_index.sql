-- Refresh tokens that live until they go unused for a while (an app's `SpecificInactivity`
-- policy stores no end for them), by app and last use: housekeeping ends those idle past
-- the app's period (`TokenStore::expire_idle_refresh_tokens`) reading only them, never the
-- tokens still in use.
CREATE INDEX oauth_refresh_tokens_idle ON oauth_refresh_tokens
    (org_id, app_name_lower, last_used_at)
    WHERE revoked_at IS NULL AND rotated_at IS NULL AND expires_at IS NULL;
