-- The Connect REST API (issue 6): indexes of live tokens for the OAuth usage listings, and the
-- staged or rotated credential of each consumer.
--
-- Same conventions as 0001-0003 (and kept identical in migrations/sqlite). The number 0004 is
-- another branch's; versions need not be consecutive, only increasing.
--
-- Partial indexes hold only live rows (not revoked, not rotated), so listing the users of an
-- app reads that app's live tokens and nothing else, however many revoked rows the table has.

CREATE INDEX oauth_refresh_tokens_live ON oauth_refresh_tokens
    (org_id, app_name_lower, user_id, expires_at)
    WHERE revoked_at IS NULL AND rotated_at IS NULL;

CREATE INDEX oauth_access_tokens_live ON oauth_access_tokens
    (org_id, app_name_lower, expires_at)
    WHERE revoked_at IS NULL;

-- Access tokens issued without a refresh token (client credentials, password).
CREATE INDEX oauth_access_tokens_live_standalone ON oauth_access_tokens
    (org_id, app_name_lower, user_id, expires_at)
    WHERE revoked_at IS NULL AND refresh_hash IS NULL;

-- A consumer's second credential (`spec/oauth-and-connect.md` §3): staged (`Active`, before a
-- rotation) or the former primary (`Rotated`, after one). Either authenticates until it is
-- deleted or `expires_at` passes; `Expired` is computed from the clock, never stored.
CREATE TABLE oauth_staged_credentials (
    -- `0Cs…`.
    id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    org_id TEXT COLLATE "C" NOT NULL REFERENCES orgs (id),
    consumer_id TEXT COLLATE "C" NOT NULL,
    consumer_key TEXT COLLATE "C" NOT NULL,
    -- `MasterKey::encrypt(secret, context = consumer_id)`, as oauth_consumers.consumer_secret.
    consumer_secret BYTEA NOT NULL,
    -- `Active` or `Rotated`.
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT COLLATE "C" NOT NULL,
    expires_at BIGINT NOT NULL,
    FOREIGN KEY (org_id, consumer_id) REFERENCES oauth_consumers (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id)
);

-- One staged credential per consumer at a time.
CREATE UNIQUE INDEX oauth_staged_credentials_consumer_id ON oauth_staged_credentials (consumer_id);
-- A staged key is a client_id too.
CREATE UNIQUE INDEX oauth_staged_credentials_consumer_key ON oauth_staged_credentials (consumer_key);
