-- 0004_facilities: the facility catalogue synced from the owners' adapters (hub/facility), for
-- local search (SearchFacilities, GetFacility), and each adapter's sync state.

CREATE EXTENSION IF NOT EXISTS postgis;

-- One facility as its owner's adapter last listed it. body is the whole Facility message in
-- proto3 JSON as the adapter sent it (id, owner and updated_at are the hub's, set when read);
-- the other columns are copies for filtering and sorting. kind is the FacilityKind number.
-- location is absent when the owner gives no coordinates.
CREATE TABLE rk_facility (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id         bigint NOT NULL REFERENCES rk_tenant (id),
    adapter_id        bigint NOT NULL REFERENCES rk_adapter (id) ON DELETE CASCADE,
    owner_facility_id text NOT NULL CHECK (length(owner_facility_id) BETWEEN 1 AND 256),
    kind              integer NOT NULL DEFAULT 0,
    name_ja           text NOT NULL DEFAULT '',
    name_en           text NOT NULL DEFAULT '',
    name_kana         text NOT NULL DEFAULT '',
    address           text NOT NULL DEFAULT '',
    location          geography(Point, 4326),
    capacity          integer NOT NULL DEFAULT 0,
    bookable_via_hub  boolean NOT NULL DEFAULT false,
    fees              jsonb NOT NULL DEFAULT '{}',
    body              jsonb NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rk_facility_owner_unique UNIQUE (adapter_id, owner_facility_id)
);
CREATE INDEX rk_facility_location ON rk_facility USING gist (location);
CREATE INDEX rk_facility_tenant_kind ON rk_facility (tenant_id, kind);
CREATE INDEX rk_facility_kind ON rk_facility (kind);

-- Catalogue sync state of one adapter: the change token of its last complete sync (empty =
-- list everything next time) and when that sync finished.
CREATE TABLE rk_facility_sync (
    adapter_id   bigint PRIMARY KEY REFERENCES rk_adapter (id) ON DELETE CASCADE,
    change_token text NOT NULL DEFAULT '' CHECK (length(change_token) <= 4096),
    last_sync_at timestamptz
);
