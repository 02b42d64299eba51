-- The scopes each approval of a self-authorized app covers (issue 5): the consent page is shown
-- again when a request asks for a scope the user has not approved. Space-separated, as on the
-- wire. NULL for approvals recorded before scopes were: they cover any scope, as they did.
ALTER TABLE oauth_approvals ADD COLUMN scopes TEXT;
