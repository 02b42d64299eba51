-- Fewer index writes per issued access token (issue 5, the token endpoint's load target).
--
-- Every query on access tokens by org and app also asks for live rows (`revoked_at IS NULL`),
-- which the partial index `oauth_access_tokens_live` (0005) answers: the full index on
-- (org_id, app_name_lower) only cost a B-tree write per token.
DROP INDEX oauth_access_tokens_org_id_app_name_lower;

-- Lookups by refresh token always name one (`refresh_hash = ?` or `IN (...)`), which implies
-- it is not NULL: tokens issued without a refresh token (client credentials, password, JWT
-- bearer) need no entry.
DROP INDEX oauth_access_tokens_refresh_hash;
CREATE INDEX oauth_access_tokens_refresh_hash ON oauth_access_tokens (refresh_hash)
    WHERE refresh_hash IS NOT NULL;
