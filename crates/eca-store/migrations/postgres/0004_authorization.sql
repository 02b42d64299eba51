-- Authorization codes of the web-server flow (issue 5; RFC 6749 §4.1) and device codes of the
-- device flow (RFC 8628).
--
-- Same conventions as 0001–0003 (and kept identical in migrations/sqlite): ids are
-- 18-character text, times BIGINT milliseconds. Only the SHA-256 (hex) of a code is stored.
-- A code is redeemed by one UPDATE ... WHERE consumed_at IS NULL, so two concurrent
-- redemptions cannot both succeed; a later presentation sets replayed_at, and the tokens the
-- code gave (access_hash, refresh_family) are then revoked (RFC 6749 §4.1.2).

CREATE TABLE oauth_authorization_codes (
    code_hash TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    org_id TEXT COLLATE "C" NOT NULL REFERENCES orgs (id),
    app_name TEXT NOT NULL,
    consumer_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    -- Where the code was sent. The token request must repeat it when the authorize request
    -- named it (RFC 6749 §4.1.3); redirect_uri_given says whether it did.
    redirect_uri TEXT COLLATE "C" NOT NULL,
    redirect_uri_given BOOLEAN NOT NULL,
    scopes TEXT NOT NULL,
    -- RFC 7636: the S256 challenge and its method, when PKCE was used.
    code_challenge TEXT COLLATE "C",
    code_challenge_method TEXT,
    -- OpenID Connect Core §3.1.2.1, copied into the ID token.
    nonce TEXT,
    auth_time BIGINT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    consumed_at BIGINT,
    replayed_at BIGINT,
    -- What the redemption issued, so that a replay can revoke it.
    access_hash TEXT COLLATE "C",
    refresh_family TEXT COLLATE "C",
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);

CREATE INDEX oauth_authorization_codes_expires_at ON oauth_authorization_codes (expires_at);
CREATE INDEX oauth_authorization_codes_user_id ON oauth_authorization_codes (user_id);

-- Device codes (RFC 8628 §3.2): the device code and the user code are stored only as SHA-256
-- (hex). status moves pending -> approved | denied on the activation page, and approved ->
-- consumed at the one successful poll (one UPDATE ... WHERE status = 'approved').
CREATE TABLE oauth_device_codes (
    device_hash TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    user_code_hash TEXT COLLATE "C" NOT NULL UNIQUE,
    org_id TEXT COLLATE "C" NOT NULL REFERENCES orgs (id),
    app_name TEXT NOT NULL,
    consumer_id TEXT COLLATE "C" NOT NULL,
    scopes TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    interval_secs BIGINT NOT NULL,
    last_polled_at BIGINT,
    -- pending, approved, denied or consumed.
    status TEXT NOT NULL,
    -- Who approved or denied it on the activation page.
    user_id TEXT COLLATE "C",
    decided_at BIGINT,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);

CREATE INDEX oauth_device_codes_expires_at ON oauth_device_codes (expires_at);
