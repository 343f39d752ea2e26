-- 0001_tenants: municipalities (tenants) and the agreements between them.
-- A tenant is keyed by its 全国地方公共団体コード; everything a tenant owns carries tenant_id.

CREATE TABLE rk_tenant (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        char(6) NOT NULL UNIQUE CHECK (code ~ '^[0-9]{6}$'),
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z][a-z0-9-]{1,30}$'),
    name_ja     text NOT NULL,
    name_en     text NOT NULL,
    name_kana   text NOT NULL,
    prefecture  text NOT NULL,
    contact     jsonb NOT NULL,
    public_url  text NOT NULL,
    source      jsonb NOT NULL,            -- the tenant file as last loaded
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- An agreement is owned by the providing tenant (tenant_id): residents of from_tenant_id may
-- use the listed services of tenant_id on the terms given per residency class.
CREATE TABLE rk_agreement (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id       bigint NOT NULL REFERENCES rk_tenant (id),
    agreement_key   text NOT NULL,
    from_tenant_id  bigint NOT NULL REFERENCES rk_tenant (id),
    services        text[] NOT NULL,
    valid_from      date NOT NULL,
    valid_until     date,
    terms           jsonb NOT NULL,
    version         integer NOT NULL DEFAULT 1,
    origin          text NOT NULL DEFAULT 'file' CHECK (origin IN ('file', 'admin')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, agreement_key, from_tenant_id),
    CHECK (from_tenant_id <> tenant_id),
    CHECK (valid_until IS NULL OR valid_until >= valid_from)
);
CREATE INDEX rk_agreement_from ON rk_agreement (from_tenant_id);
