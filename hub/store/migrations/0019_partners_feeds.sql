-- 0019: partner systems with grants per method, and per-tenant change feeds (issue 8).
--
-- A partner is an OIDC confidential client of its tenant's realm (rk_identity_client, with
-- private_key_jwt) plus what it may call. Every change to a partner or its grants NOTIFYs
-- rk_partner with the partner's id, so every hub process drops what it cached of it at once
-- (hub/exchange/partner.c).
--
-- The feeds are RPDE-style: one row per (tenant, kind, item), moved to the end of the feed
-- each time the item changes (a later change replaces the earlier one), `deleted` for
-- tombstones. `modified` comes from the tenant's row in rk_feed_head, incremented and held
-- locked by the writing transaction until it commits: a tenant's feed items therefore become
-- visible in `modified` order, so a reader paging by `modified` never skips one that commits
-- late. Items are written by triggers, in the transaction of the change they describe.

CREATE TABLE rk_partner (
    id                    text PRIMARY KEY CHECK (id ~ '^pt_[0-9a-f]{32}$'),
    tenant_id             bigint NOT NULL REFERENCES rk_tenant (id),
    name                  text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    client_id             text NOT NULL UNIQUE,
    auth_method           text NOT NULL CHECK (auth_method IN ('private_key_jwt')),
    rate_limit_per_second integer NOT NULL DEFAULT 0 CHECK (rate_limit_per_second BETWEEN 0 AND 100000),
    webhook_url           text NOT NULL DEFAULT '' CHECK (length(webhook_url) <= 2048),
    created_at            timestamptz NOT NULL DEFAULT now(),
    revoked_at            timestamptz,
    CONSTRAINT rk_partner_name_unique UNIQUE (tenant_id, name)
);

CREATE TABLE rk_partner_grant (
    partner_id text NOT NULL REFERENCES rk_partner (id) ON DELETE CASCADE,
    method     text NOT NULL CHECK (method ~ '^renkei\.v1\.[A-Za-z]+/([A-Za-z]+|\*)$'),
    read_only  boolean NOT NULL DEFAULT false,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (partner_id, method)
);

CREATE TRIGGER rk_partner_notify AFTER INSERT OR UPDATE OR DELETE ON rk_partner
    FOR EACH ROW EXECUTE FUNCTION rk_notify_row_change('rk_partner');

CREATE FUNCTION rk_partner_grant_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('rk_partner', CASE WHEN TG_OP = 'DELETE' THEN OLD.partner_id
                                         ELSE NEW.partner_id END);
    RETURN NULL;
END
$$;
CREATE TRIGGER rk_partner_grant_notify AFTER INSERT OR UPDATE OR DELETE ON rk_partner_grant
    FOR EACH ROW EXECUTE FUNCTION rk_partner_grant_notify();

-- A partner as the proto3 JSON of renkei.v1.Partner.
CREATE FUNCTION rk_partner_json(p_id text) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'id', p.id,
        'tenant', jsonb_build_object('code', t.code, 'slug', t.slug),
        'name', p.name,
        'clientId', p.client_id,
        'authMethod', 'PARTNER_AUTH_METHOD_PRIVATE_KEY_JWT',
        'grants', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                'method', g.method, 'readOnly', g.read_only,
                                'grantedAt', rk_booking_utc(g.granted_at)) ORDER BY g.method)
                              FROM rk_partner_grant g WHERE g.partner_id = p.id), '[]'),
        'rateLimitPerSecond', p.rate_limit_per_second,
        'revoked', p.revoked_at IS NOT NULL,
        'createdAt', rk_booking_utc(p.created_at),
        'revokedAt', rk_booking_utc(p.revoked_at)))
      FROM rk_partner p JOIN rk_tenant t ON t.id = p.tenant_id WHERE p.id = p_id
$$;

-- The partner p_id of the tenant named p_tenant (slug or code), or NULL.
CREATE FUNCTION rk_partner_of(p_tenant text, p_id text) RETURNS rk_partner
LANGUAGE sql STABLE AS $$
    SELECT p.* FROM rk_partner p JOIN rk_tenant t ON t.id = p.tenant_id
     WHERE p.id = p_id AND (t.slug = p_tenant OR t.code::text = p_tenant)
$$;

-- RegisterPartner: the realm's confidential client (client_credentials, private_key_jwt with
-- p_jwks, access tokens for p_audience) and the partner, as JSON; NULL: no such tenant. A
-- name already taken raises unique_violation (rk_partner_name_unique).
CREATE FUNCTION rk_partner_register(p_tenant text, p_id text, p_client_id text, p_name text,
                                    p_jwks jsonb, p_rate integer, p_audience text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_tenant bigint;
BEGIN
    SELECT id INTO v_tenant FROM rk_tenant WHERE slug = p_tenant OR code::text = p_tenant;
    IF v_tenant IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO rk_partner (id, tenant_id, name, client_id, auth_method, rate_limit_per_second)
        VALUES (p_id, v_tenant, p_name, p_client_id, 'private_key_jwt', p_rate);
    INSERT INTO rk_identity_client (tenant_id, client_id, name, grant_types, scopes, audience,
                                    access_token_ttl, signing_alg, auth_method, subject_type,
                                    jwks)
        VALUES (v_tenant, p_client_id, left('partner ' || p_name, 200),
                ARRAY['client_credentials'], ARRAY['partner'], p_audience, 300, 'ES256',
                'private_key_jwt', 'public', p_jwks);
    RETURN rk_partner_json(p_id);
END
$$;

-- GrantPartner (again: the grant's read_only is replaced); NULL: no such live partner.
CREATE FUNCTION rk_partner_grant_method(p_tenant text, p_id text, p_method text,
                                        p_read_only boolean) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    IF (rk_partner_of(p_tenant, p_id)).revoked_at IS NOT NULL
       OR (rk_partner_of(p_tenant, p_id)).id IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO rk_partner_grant (partner_id, method, read_only)
        VALUES (p_id, p_method, p_read_only)
        ON CONFLICT (partner_id, method) DO UPDATE
        SET read_only = EXCLUDED.read_only, granted_at = now();
    RETURN rk_partner_json(p_id);
END
$$;

-- RevokePartner: one grant (p_method), or with p_method '' the whole partner, whose client may
-- then get no more tokens. NULL: no such partner.
CREATE FUNCTION rk_partner_revoke(p_tenant text, p_id text, p_method text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v rk_partner;
BEGIN
    v := rk_partner_of(p_tenant, p_id);
    IF v.id IS NULL THEN
        RETURN NULL;
    END IF;
    IF p_method = '' THEN
        UPDATE rk_partner SET revoked_at = coalesce(revoked_at, now()) WHERE id = p_id;
        UPDATE rk_identity_client SET grant_types = ARRAY[]::text[], updated_at = now()
         WHERE tenant_id = v.tenant_id AND client_id = v.client_id;
    ELSE
        DELETE FROM rk_partner_grant WHERE partner_id = p_id AND method = p_method;
    END IF;
    RETURN rk_partner_json(p_id);
END
$$;

CREATE TABLE rk_feed_head (
    tenant_id bigint PRIMARY KEY REFERENCES rk_tenant (id),
    modified  bigint NOT NULL DEFAULT 0
);

CREATE TABLE rk_feed_item (
    tenant_id   bigint NOT NULL REFERENCES rk_tenant (id),
    kind        text NOT NULL CHECK (kind IN ('booking', 'facility')),
    item_id     text NOT NULL,
    modified    bigint NOT NULL,
    modified_at timestamptz NOT NULL DEFAULT now(),
    data        jsonb,                           -- proto3 JSON as this tenant may see it; NULL: deleted
    PRIMARY KEY (tenant_id, kind, item_id)
);
CREATE UNIQUE INDEX rk_feed_item_order ON rk_feed_item (tenant_id, modified);

-- Puts the item at the end of the tenant's feed (data NULL: a tombstone) and NOTIFYs rk_feed
-- with the tenant id. Holds the tenant's feed head until commit.
CREATE FUNCTION rk_feed_put(p_tenant bigint, p_kind text, p_item text, p_data jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_modified bigint;
BEGIN
    INSERT INTO rk_feed_head AS h (tenant_id, modified) VALUES (p_tenant, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET modified = h.modified + 1
        RETURNING h.modified INTO v_modified;
    INSERT INTO rk_feed_item AS i (tenant_id, kind, item_id, modified, data)
        VALUES (p_tenant, p_kind, p_item, v_modified, p_data)
        ON CONFLICT (tenant_id, kind, item_id) DO UPDATE
        SET modified = EXCLUDED.modified, modified_at = now(), data = EXCLUDED.data;
    PERFORM pg_notify('rk_feed', p_tenant::text);
END
$$;

-- A booking as the proto3 JSON of renkei.v1.Booking. The owner (provider) sees its
-- resident's pairwise id towards it, purpose and its own reference; the resident's home city
-- sees the booking without them (that pairwise id is not its own).
CREATE FUNCTION rk_feed_booking_json(b rk_booking, p_owner boolean) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'id', b.id,
        'facilityId', b.facility_id::text,
        'owner', jsonb_build_object('code', t.code, 'slug', t.slug),
        'time', jsonb_build_object('start', rk_booking_utc(lower(b.period)),
                                   'end', rk_booking_utc(upper(b.period))),
        'state', 'BOOKING_STATE_' || upper(b.state),
        'residentPairwiseId', CASE WHEN p_owner THEN nullif(b.resident_subject, '') END,
        'residencyClass', 'RESIDENCY_CLASS_' || upper(b.residency_class),
        'fee', CASE WHEN b.fee_yen IS NOT NULL THEN jsonb_build_object('amount', b.fee_yen) END,
        'ownerReference', CASE WHEN p_owner THEN nullif(b.owner_reference, '') END,
        'agreement', CASE WHEN b.agreement_id IS NOT NULL
                          THEN jsonb_build_object('agreementId', b.agreement_id::text,
                                                  'version', b.agreement_version) END,
        'attendees', b.attendees,
        'purpose', CASE WHEN p_owner THEN nullif(b.purpose, '') END,
        'receiptId', b.receipt_id,
        'createdAt', rk_booking_utc(b.created_at),
        'updatedAt', rk_booking_utc(b.updated_at)))
      FROM rk_tenant t WHERE t.id = b.tenant_id
$$;

-- Bookings enter the feeds of the owner and of the resident's home city (tenant-id order, so
-- two transactions never wait for each other's heads crosswise) once they are HELD; states
-- in between (requested, confirming, cancelling) are not news. A deleted row is a tombstone.
CREATE FUNCTION rk_feed_booking() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r rk_booking;
    v_home bigint;
    v_tenant bigint;
BEGIN
    r := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    IF TG_OP <> 'DELETE' AND (r.state NOT IN ('held', 'confirmed', 'cancelled', 'expired', 'failed')
                              OR (TG_OP = 'UPDATE' AND OLD.state = NEW.state
                                  AND OLD.receipt_id IS NOT DISTINCT FROM NEW.receipt_id)
                              OR (TG_OP = 'INSERT' AND r.state = 'failed')
                              OR (r.state = 'failed' AND OLD.state = 'requested')) THEN
        RETURN NULL;
    END IF;
    SELECT id INTO v_home FROM rk_tenant WHERE code = r.home_municipality;
    FOR v_tenant IN SELECT DISTINCT x FROM unnest(ARRAY[r.tenant_id, v_home]) x
                     WHERE x IS NOT NULL ORDER BY x LOOP
        PERFORM rk_feed_put(v_tenant, 'booking', r.id,
                            CASE WHEN TG_OP = 'DELETE' THEN NULL
                                 ELSE rk_feed_booking_json(r, v_tenant = r.tenant_id) END);
    END LOOP;
    RETURN NULL;
END
$$;
CREATE TRIGGER rk_feed_booking AFTER INSERT OR UPDATE OR DELETE ON rk_booking
    FOR EACH ROW EXECUTE FUNCTION rk_feed_booking();

-- A facility of the tenant's catalogue as renkei.v1.Facility (the stored body with the hub's
-- id, owner and updatedAt, as SearchFacilities answers it); removal is a tombstone.
CREATE FUNCTION rk_feed_facility() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM rk_feed_put(OLD.tenant_id, 'facility', OLD.id::text, NULL);
        RETURN NULL;
    END IF;
    PERFORM rk_feed_put(NEW.tenant_id, 'facility', NEW.id::text,
        NEW.body || jsonb_build_object(
            'id', NEW.id::text,
            'owner', (SELECT jsonb_build_object('code', t.code, 'slug', t.slug)
                        FROM rk_tenant t WHERE t.id = NEW.tenant_id),
            'updatedAt', rk_booking_utc(NEW.updated_at)));
    RETURN NULL;
END
$$;
CREATE TRIGGER rk_feed_facility_insert_delete AFTER INSERT OR DELETE ON rk_facility
    FOR EACH ROW EXECUTE FUNCTION rk_feed_facility();
CREATE TRIGGER rk_feed_facility_update AFTER UPDATE ON rk_facility
    FOR EACH ROW WHEN (OLD.body IS DISTINCT FROM NEW.body) EXECUTE FUNCTION rk_feed_facility();
