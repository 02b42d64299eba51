-- Orgs, their users, profiles and permission sets, web and SOAP sessions, server settings.
--
-- Conventions (kept identical in migrations/sqlite so one set of queries serves both):
-- ids are 18-character text; times are BIGINT milliseconds since the Unix epoch; every name
-- that is unique case-insensitively has a `*_lower` copy, lower-cased by the application,
-- carrying the unique index. Ids and sort keys use the "C" collation so ordering is by byte,
-- as in SQLite, whatever the database's default collation.

CREATE TABLE orgs (
    id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    my_domain TEXT NOT NULL,
    my_domain_lower TEXT COLLATE "C" NOT NULL,
    is_default BOOLEAN NOT NULL,
    session_timeout_minutes BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE UNIQUE INDEX orgs_my_domain_lower_key ON orgs (my_domain_lower);
-- At most one org answers at the server root.
CREATE UNIQUE INDEX orgs_is_default_key ON orgs (is_default) WHERE is_default;

CREATE TABLE profiles (
    id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    org_id TEXT COLLATE "C" NOT NULL REFERENCES orgs (id),
    name TEXT NOT NULL,
    name_lower TEXT COLLATE "C" NOT NULL,
    -- Permission API names, comma-separated (`Permissions::to_csv`).
    permissions TEXT NOT NULL,
    -- The target of the (org_id, profile_id) foreign key from users.
    UNIQUE (org_id, id)
);

CREATE UNIQUE INDEX profiles_org_id_name_lower_key ON profiles (org_id, name_lower);

CREATE TABLE permission_sets (
    id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    org_id TEXT COLLATE "C" NOT NULL REFERENCES orgs (id),
    name TEXT NOT NULL,
    name_lower TEXT COLLATE "C" NOT NULL,
    label TEXT NOT NULL,
    permissions TEXT NOT NULL,
    UNIQUE (org_id, id)
);

CREATE UNIQUE INDEX permission_sets_org_id_name_lower_key ON permission_sets (org_id, name_lower);

CREATE TABLE users (
    id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    org_id TEXT COLLATE "C" NOT NULL REFERENCES orgs (id),
    username TEXT NOT NULL,
    username_lower TEXT COLLATE "C" NOT NULL,
    -- The profile must belong to the user's own org: the key includes org_id.
    profile_id TEXT COLLATE "C" NOT NULL,
    email TEXT NOT NULL,
    first_name TEXT,
    last_name TEXT NOT NULL,
    federation_id TEXT,
    alias TEXT,
    title TEXT,
    company_name TEXT,
    department TEXT,
    division TEXT,
    street TEXT,
    city TEXT,
    state TEXT,
    postal_code TEXT,
    country TEXT,
    phone TEXT,
    mobile_phone TEXT,
    employee_number TEXT,
    time_zone TEXT NOT NULL,
    locale TEXT NOT NULL,
    language TEXT NOT NULL,
    is_active BOOLEAN NOT NULL,
    is_frozen BOOLEAN NOT NULL,
    -- Argon2id PHC string; NULL for users who cannot log in with a password.
    password_hash TEXT,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, profile_id) REFERENCES profiles (org_id, id)
);

-- Usernames are unique across all orgs of the server, as on Salesforce.
CREATE UNIQUE INDEX users_username_lower_key ON users (username_lower);
CREATE INDEX users_org_id_username_lower ON users (org_id, username_lower);
CREATE INDEX users_profile_id ON users (profile_id);

CREATE TABLE permission_set_assignments (
    user_id TEXT COLLATE "C" NOT NULL,
    permission_set_id TEXT COLLATE "C" NOT NULL,
    -- Both sides must be in the same org: each key includes org_id.
    org_id TEXT COLLATE "C" NOT NULL,
    assigned_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, permission_set_id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, permission_set_id) REFERENCES permission_sets (org_id, id) ON DELETE CASCADE
);

-- The primary key serves lookups by user; this one serves lookups (and cascades) by set.
CREATE INDEX permission_set_assignments_permission_set_id ON permission_set_assignments (permission_set_id);

CREATE TABLE sessions (
    -- SHA-256 of the session id; the id itself is never stored.
    id_hash TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    org_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    -- `soap` or `web` (`SessionKind::as_str`); no CHECK, as in SQLite.
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);

CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE settings (
    key TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
