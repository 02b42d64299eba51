-- Deployed metadata (issue 4): the components of each org, the OAuth consumers behind global
-- OAuth settings, deploy requests, and the audit trail of every metadata change.
--
-- Same conventions as 0001 (and kept identical in migrations/sqlite): ids are 18-character
-- text, times BIGINT milliseconds, case-insensitive names carry a `*_lower` copy lower-cased
-- by the application, ids and sort keys use the "C" collation, and every row that names a
-- user names one of its own org (composite foreign keys on org_id).

CREATE TABLE metadata_components (
    org_id TEXT COLLATE "C" NOT NULL REFERENCES orgs (id),
    -- The Metadata API type name (`ExtlClntAppOauthSettings`).
    type_name TEXT COLLATE "C" NOT NULL,
    full_name TEXT NOT NULL,
    full_name_lower TEXT COLLATE "C" NOT NULL,
    -- The app the component belongs to: `externalClientApplication` for a satellite, its own
    -- name for a header, NULL for the org settings.
    app_name TEXT,
    app_name_lower TEXT COLLATE "C",
    -- Canonical XML. Never holds a consumer secret (those live encrypted in oauth_consumers).
    xml TEXT NOT NULL,
    -- 1 when created, bumped by every update: writers name the revision they read, so two
    -- writers that read the same row cannot both change it.
    revision BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT COLLATE "C" NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (org_id, type_name, full_name_lower),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, updated_by) REFERENCES users (org_id, id)
);

CREATE INDEX metadata_components_org_id_app_name_lower ON metadata_components (org_id, app_name_lower);

CREATE TABLE oauth_consumers (
    -- `888…`.
    id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    org_id TEXT COLLATE "C" NOT NULL REFERENCES orgs (id),
    app_name TEXT NOT NULL,
    app_name_lower TEXT COLLATE "C" NOT NULL,
    consumer_key TEXT COLLATE "C" NOT NULL,
    -- `MasterKey::encrypt(secret, context = id)`: the store never sees the plaintext.
    consumer_secret BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (org_id, id)
);

-- A consumer key is a client_id: unique across the whole server (case-sensitive).
CREATE UNIQUE INDEX oauth_consumers_consumer_key_key ON oauth_consumers (consumer_key);
CREATE INDEX oauth_consumers_org_id_app_name_lower ON oauth_consumers (org_id, app_name_lower);

CREATE TABLE deploy_requests (
    -- `0Af…`.
    id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    org_id TEXT COLLATE "C" NOT NULL REFERENCES orgs (id),
    created_by TEXT COLLATE "C" NOT NULL,
    -- Queued, InProgress, Succeeded, SucceededPartial, Failed, Canceled (`DeployStatus`).
    status TEXT COLLATE "C" NOT NULL,
    -- The deploy options, as JSON.
    options TEXT NOT NULL,
    -- The DeployResult, as JSON, once the deploy is done.
    result TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    completed_at BIGINT,
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id)
);

CREATE INDEX deploy_requests_org_id_created_at ON deploy_requests (org_id, created_at);
CREATE INDEX deploy_requests_unfinished ON deploy_requests (status) WHERE status IN ('Queued', 'InProgress');

CREATE TABLE metadata_audit (
    -- Increasing: the order the changes were made in.
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id TEXT COLLATE "C" NOT NULL REFERENCES orgs (id),
    user_id TEXT COLLATE "C" NOT NULL,
    at BIGINT NOT NULL,
    -- The deploy that made the change, if a deploy did.
    deploy_request_id TEXT COLLATE "C",
    -- Created, Changed, Deleted, ConsumerCreated, ConsumerKeyRotated, ... (`AuditAction`).
    action TEXT COLLATE "C" NOT NULL,
    type_name TEXT COLLATE "C" NOT NULL,
    full_name TEXT NOT NULL,
    before_xml TEXT,
    after_xml TEXT,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);

CREATE INDEX metadata_audit_org_id_seq ON metadata_audit (org_id, seq);
