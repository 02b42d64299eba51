-- The SAML identity provider's signing keys (issue 7), one row per key of an org. The highest
-- version signs; older ones stay published in the IdP metadata for an overlap window after the
-- key that replaced them was made (`docs/saml.md`, "Keys and rotation").
CREATE TABLE saml_signing_keys (
    org_id TEXT COLLATE "C" NOT NULL REFERENCES orgs (id),
    -- 1 for the first key, then one more per rotation.
    version BIGINT NOT NULL,
    -- `MasterKey::encrypt(PKCS#8 DER, context = "saml-signing-key:<org_id>:<version>")`.
    private_key BYTEA NOT NULL,
    -- The self-signed X.509 certificate (DER) published for the key; public.
    certificate BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, version)
);
