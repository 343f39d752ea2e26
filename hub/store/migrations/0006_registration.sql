-- 0006_registration: dynamic client registration (RFC 7591) with initial access tokens, and
-- private_key_jwt client authentication (RFC 7523 §2.2) with replay protection.

-- A private_key_jwt client registers its public keys as a JWK set; it has no secret (0005's
-- constraint already says so). hub/identity/client_assertion.c vets the set before it is
-- stored: public EC P-256 or RSA (2048 bits or more) signing keys, distinct kids.
ALTER TABLE rk_identity_client
    ADD COLUMN jwks jsonb CHECK (jsonb_typeof(jwks -> 'keys') = 'array'),
    ADD CONSTRAINT rk_identity_client_jwks_when_needed
        CHECK (auth_method <> 'private_key_jwt' OR jwks IS NOT NULL);

-- Initial access tokens (RFC 7591 §3): an operator hands one to a developer, who may register
-- up to uses_left clients in the realm with it until expires_at. Only the token's SHA-256 is
-- stored; a registration spends one use in the same statement that stores the client.
CREATE TABLE rk_identity_registration_token (
    token_sha256  bytea PRIMARY KEY CHECK (length(token_sha256) = 32),
    tenant_id     bigint NOT NULL REFERENCES rk_tenant (id),
    uses_left     integer NOT NULL CHECK (uses_left BETWEEN 0 AND 1000),
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rk_identity_registration_token_tenant ON rk_identity_registration_token (tenant_id);

-- The jti of every client assertion accepted, kept until the assertion could no longer be
-- accepted (its exp plus the clock leeway, at most a few minutes): a second use of one jti is
-- refused as a replay, by whichever hub sees it, because the primary key decides.
CREATE TABLE rk_identity_client_assertion (
    tenant_id   bigint NOT NULL REFERENCES rk_tenant (id),
    client_id   text NOT NULL,
    jti         text NOT NULL CHECK (length(jti) BETWEEN 1 AND 255),
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, client_id, jti)
);
CREATE INDEX rk_identity_client_assertion_expiry ON rk_identity_client_assertion (expires_at);
