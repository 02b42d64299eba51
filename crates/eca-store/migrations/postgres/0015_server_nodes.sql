-- Server nodes sharing the database, and which node runs each deploy (issue 4): a node that
-- starts fails only the deploys of nodes that stopped, never those another live node is still
-- running. Each `eca serve` process is one node, with a new random id at every start, and says
-- it is alive every few seconds (`seen_at`, milliseconds, by its own clock).
CREATE TABLE server_nodes (
    id TEXT NOT NULL PRIMARY KEY,
    started_at BIGINT NOT NULL,
    seen_at BIGINT NOT NULL
);

-- The node that queued and runs the request. NULL for requests from before node ids: no live
-- node claims them.
ALTER TABLE deploy_requests ADD COLUMN node_id TEXT;
