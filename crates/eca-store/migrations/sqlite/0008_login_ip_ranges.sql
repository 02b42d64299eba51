-- Issue 5: profiles' login IP ranges (Salesforce's LoginIpRange object), which the OAuth
-- server enforces according to each app's IP relaxation policy.

CREATE TABLE login_ip_ranges (
    -- `02w…`.
    id TEXT NOT NULL PRIMARY KEY,
    org_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    -- Both ends in their canonical text form (`IpAddr`'s Display); same family, start <= end.
    start_address TEXT NOT NULL,
    end_address TEXT NOT NULL,
    description TEXT,
    created_at INTEGER NOT NULL,
    last_modified_at INTEGER NOT NULL,
    FOREIGN KEY (org_id, profile_id) REFERENCES profiles (org_id, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX login_ip_ranges_profile_id ON login_ip_ranges (profile_id);
CREATE INDEX login_ip_ranges_org_id ON login_ip_ranges (org_id);
