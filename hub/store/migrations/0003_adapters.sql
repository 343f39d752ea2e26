-- 0003_adapters: the owner adapters tenants register (hub/federation), and the idempotency
-- keys of the admin calls that change them.

-- One adapter of one tenant. state: pending (registered or enabled, probe not finished),
-- active (Describe and health succeeded and fit the tenant), failed (last_error says why),
-- disabled (switched off by staff). The hub trusts an https adapter by the CA registered
-- for it (ca_pem; ca_pem_sha256 is the SHA-256 of its first certificate's DER), by its
-- pinned leaf certificate, or by the hub's federation.ca_file. Capabilities hold
-- AdapterCapability value names ('ADAPTER_CAPABILITY_FACILITY_CATALOGUE'). revision rises
-- with every change, so a hub can tell its copy is stale and a probe that raced a change is
-- not stored.
CREATE TABLE rk_adapter (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id             bigint NOT NULL REFERENCES rk_tenant (id),
    name                  text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    endpoint              text NOT NULL
                          CHECK (endpoint ~ '^https?://' AND length(endpoint) <= 512),
    expected_capabilities text[] NOT NULL DEFAULT '{}',
    capabilities          text[] NOT NULL DEFAULT '{}',
    state                 text NOT NULL DEFAULT 'pending'
                          CHECK (state IN ('pending', 'active', 'failed', 'disabled')),
    adapter_version       text NOT NULL DEFAULT '',
    contract_version      text NOT NULL DEFAULT '',
    owner_system          text NOT NULL DEFAULT '',
    last_error            text NOT NULL DEFAULT '',
    ca_pem                text CHECK (length(ca_pem) <= 65536),
    ca_pem_sha256         text CHECK (ca_pem_sha256 ~ '^[0-9a-f]{64}$'),
    pinned_cert_sha256    text CHECK (pinned_cert_sha256 ~ '^[0-9a-f]{64}$'),
    tls_server_name       text NOT NULL DEFAULT '',
    revision              bigint NOT NULL DEFAULT 1,
    activated_at          timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rk_adapter_name_unique UNIQUE (tenant_id, name),
    CHECK ((ca_pem IS NULL) = (ca_pem_sha256 IS NULL)),
    CHECK (ca_pem IS NULL OR pinned_cert_sha256 IS NULL)
);
CREATE INDEX rk_adapter_active ON rk_adapter (tenant_id) WHERE state = 'active';

-- Idempotency keys of AdminService adapter calls: the same key with the same request (its
-- SHA-256 without the key) answers again; with another request it is refused. Kept a week
-- (the contract promises at least 24 hours), removed by the hub.
CREATE TABLE rk_adapter_request (
    caller          text NOT NULL,
    method          text NOT NULL,
    idempotency_key text NOT NULL,
    request_sha256  text NOT NULL CHECK (request_sha256 ~ '^[0-9a-f]{64}$'),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller, method, idempotency_key)
);
CREATE INDEX rk_adapter_request_created ON rk_adapter_request (created_at);
