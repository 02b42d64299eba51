-- Authorization codes of the web-server flow (issue 5; RFC 6749 §4.1) and device codes of the
-- device flow (RFC 8628).
--
-- Same conventions as 0001–0003 (and kept identical in migrations/postgres): ids are
-- 18-character text, times INTEGER milliseconds. Only the SHA-256 (hex) of a code is stored.
-- A code is redeemed by one UPDATE ... WHERE consumed_at IS NULL, so two concurrent
-- redemptions cannot both succeed; a later presentation sets replayed_at, and the tokens the
-- code gave (access_hash, refresh_family) are then revoked (RFC 6749 §4.1.2).

CREATE TABLE oauth_authorization_codes (
    code_hash TEXT NOT NULL PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs (id),
    app_name TEXT NOT NULL,
    consumer_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    -- Where the code was sent. The token request must repeat it when the authorize request
    -- named it (RFC 6749 §4.1.3); redirect_uri_given says whether it did.
    redirect_uri TEXT NOT NULL,
    redirect_uri_given INTEGER NOT NULL CHECK (redirect_uri_given IN (0, 1)),
    scopes TEXT NOT NULL,
    -- RFC 7636: the S256 challenge and its method, when PKCE was used.
    code_challenge TEXT,
    code_challenge_method TEXT,
    -- OpenID Connect Core §3.1.2.1, copied into the ID token.
    nonce TEXT,
    auth_time INTEGER NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    consumed_at INTEGER,
    replayed_at INTEGER,
    -- What the redemption issued, so that a replay can revoke it.
    access_hash TEXT,
    refresh_family TEXT,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
) STRICT;

CREATE INDEX oauth_authorization_codes_expires_at ON oauth_authorization_codes (expires_at);
CREATE INDEX oauth_authorization_codes_user_id ON oauth_authorization_codes (user_id);

-- Device codes (RFC 8628 §3.2): the device code and the user code are stored only as SHA-256
-- (hex). status moves pending -> approved | denied on the activation page, and approved ->
-- consumed at the one successful poll (one UPDATE ... WHERE status = 'approved').
CREATE TABLE oauth_device_codes (
    device_hash TEXT NOT NULL PRIMARY KEY,
    user_code_hash TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES orgs (id),
    app_name TEXT NOT NULL,
    consumer_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    interval_secs INTEGER NOT NULL,
    last_polled_at INTEGER,
    -- pending, approved, denied or consumed.
    status TEXT NOT NULL,
    -- Who approved or denied it on the activation page.
    user_id TEXT,
    decided_at INTEGER,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
) STRICT;

CREATE INDEX oauth_device_codes_expires_at ON oauth_device_codes (expires_at);
