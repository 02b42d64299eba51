-- The revoked members of a refresh-token family (issue 5). Every use of a refresh token, and
-- every bearer call with an access token issued from one, asks whether any member of its family
-- is revoked. With rotation a family keeps every token it rotated through while it lives (a year
-- of hourly refreshes is about 8,700 rows), and for a live family no row matches: through the
-- family index alone the question read them all. This index holds only revoked tokens, so the
-- answer for a live family is found without reading its members.
CREATE INDEX oauth_refresh_tokens_revoked_family ON oauth_refresh_tokens (family_id)
    WHERE revoked_at IS NOT NULL;
-- Building it reads the whole table while holding a SHARE lock: refreshes and revocations on
-- every node wait until it is built. On a large database, upgrade at a quiet time.
