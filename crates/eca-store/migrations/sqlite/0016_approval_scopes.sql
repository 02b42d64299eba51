-- The scopes each approval of a self-authorized app covers (issue 5): the consent page is shown
-- again when a request asks for a scope the user has not approved. Space-separated, as on the
-- wire, or `*` for any scope: the approvals recorded before this column, which covered any.
-- NULL covers nothing: a node of an earlier version, still running during a rolling upgrade,
-- records approvals without scopes, and their users are simply asked again.
ALTER TABLE oauth_approvals ADD COLUMN scopes TEXT;
UPDATE oauth_approvals SET scopes = '*';
