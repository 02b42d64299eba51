-- The org's "Enforce login IP ranges on every request" session setting (Salesforce's
-- SessionSettings.enforceIpRangesEveryRequest): off by default, as on Salesforce.
ALTER TABLE orgs ADD COLUMN enforce_ip_ranges_every_request INTEGER NOT NULL DEFAULT 0
    CHECK (enforce_ip_ranges_every_request IN (0, 1));
