-- When the user who decided a device code logged in (OpenID Connect Core §2 `auth_time` in the
-- device flow's ID token; issue 5). NULL for codes decided before this column: their ID tokens
-- fall back to the decision time.
ALTER TABLE oauth_device_codes ADD COLUMN authenticated_at INTEGER;
