-- OAuth tokens (issue 5): access tokens, refresh tokens and their families, and the record of
-- users who approved an app (the JWT bearer flow's "approved before" rule), and each org's
-- token signing keys.
--
-- Same conventions as 0001 and 0002 (and kept identical in migrations/postgres): ids are
-- 18-character text, times INTEGER milliseconds, app names matched through `*_lower` copies.
-- Only SHA-256 hashes (hex) of bearer values are stored. Revocation is a timestamp, written at
-- once and checked on every lookup, so it takes effect immediately on every node.

CREATE TABLE oauth_access_tokens (
    token_hash TEXT NOT NULL PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs (id),
    app_name TEXT NOT NULL,
    app_name_lower TEXT NOT NULL,
    -- `888…`. Not a foreign key: a deleted consumer leaves its tokens behind, and they stop
    -- working because the consumer is looked up on every use.
    consumer_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    -- Space-separated, as on the wire.
    scopes TEXT NOT NULL,
    -- `Opaque` or `JWT` (the Connect usage API's `accessTokenFormat`).
    format TEXT NOT NULL,
    -- The refresh token it was issued from, if any.
    refresh_hash TEXT,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
) STRICT;

CREATE INDEX oauth_access_tokens_refresh_hash ON oauth_access_tokens (refresh_hash);
CREATE INDEX oauth_access_tokens_org_id_app_name_lower ON oauth_access_tokens (org_id, app_name_lower);
CREATE INDEX oauth_access_tokens_user_id ON oauth_access_tokens (user_id);

CREATE TABLE oauth_refresh_tokens (
    token_hash TEXT NOT NULL PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs (id),
    app_name TEXT NOT NULL,
    app_name_lower TEXT NOT NULL,
    consumer_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    -- Every token rotated from one first token shares its family id; reuse of a rotated token
    -- revokes the whole family.
    family_id TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    -- NULL: no lifetime limit (`Infinite`, or an inactivity policy checked from last_used_at).
    expires_at INTEGER,
    last_used_at INTEGER NOT NULL,
    use_count INTEGER NOT NULL,
    rotated_at INTEGER,
    revoked_at INTEGER,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
) STRICT;

CREATE INDEX oauth_refresh_tokens_family_id ON oauth_refresh_tokens (family_id);
CREATE INDEX oauth_refresh_tokens_org_id_app_name_lower ON oauth_refresh_tokens (org_id, app_name_lower);
CREATE INDEX oauth_refresh_tokens_user_id ON oauth_refresh_tokens (user_id);

CREATE TABLE oauth_approvals (
    org_id TEXT NOT NULL REFERENCES orgs (id),
    app_name_lower TEXT NOT NULL,
    user_id TEXT NOT NULL,
    approved_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, app_name_lower, user_id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
) STRICT;

-- The org's RS256 keys for ID tokens and JWT access tokens, published at /id/keys. Created on
-- first use; the newest signs, older ones stay published until they are removed (rollover).
CREATE TABLE oauth_signing_keys (
    org_id TEXT NOT NULL REFERENCES orgs (id),
    -- A short numeric string, as Salesforce's ("1", "2"...).
    kid TEXT NOT NULL,
    -- `MasterKey::encrypt(PKCS#8 DER, context = "oauth-signing-key:<org_id>:<kid>")`.
    private_key BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, kid)
) STRICT;
