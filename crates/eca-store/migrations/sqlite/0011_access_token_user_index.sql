-- One index write fewer per issued access token (issue 5, the token endpoint's load target).
--
-- The only query that read access tokens by user, revoking one user's tokens of one app (the
-- Connect usage API), now finds them without it: tokens issued without a refresh token through
-- the partial index `oauth_access_tokens_live_standalone` (0005), the others through the
-- refresh tokens they came from (`oauth_access_tokens_refresh_hash`, 0009). Users are never
-- deleted, so no foreign key check needs it either.
DROP INDEX oauth_access_tokens_user_id;
