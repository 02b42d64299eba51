-- Issue 4: deploys canceled while in progress, and retrieve results kept in the database.

-- Who asked to cancel a deploy (`canceledBy` of the DeployResult). A deploy in progress is
-- first `Canceling`, then `Canceled` once the engine reaches a safe point.
ALTER TABLE deploy_requests ADD COLUMN canceled_by TEXT;

DROP INDEX deploy_requests_unfinished;
CREATE INDEX deploy_requests_unfinished ON deploy_requests (status)
    WHERE status IN ('Queued', 'InProgress', 'Canceling');

-- Finished retrieves, until `checkRetrieveStatus` has read them or they expire, so that any
-- server node can answer for a retrieve another node ran.
CREATE TABLE retrieve_requests (
    -- `09S…`.
    id TEXT NOT NULL PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs (id),
    created_by TEXT NOT NULL,
    -- The RetrieveResult without its zip (file properties, messages), as JSON.
    result TEXT NOT NULL,
    -- The retrieved zip.
    zip BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id)
) STRICT;

CREATE INDEX retrieve_requests_expires_at ON retrieve_requests (expires_at);
