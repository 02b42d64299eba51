-- Access tokens stored under their hash alone (64 hex digits: opaque tokens and JWTs issued
-- before keys began with the issue time). The sweep of expired tokens walks keys below a time
-- bound, and most of these sort above it; this index, empty on databases that never held
-- such tokens and never written for new ones, lets housekeeping find them
-- (`TokenStore::delete_expired_hash_keyed_access_tokens`).
CREATE INDEX oauth_access_tokens_hash_keyed ON oauth_access_tokens (token_hash)
    WHERE length(token_hash) = 64;
