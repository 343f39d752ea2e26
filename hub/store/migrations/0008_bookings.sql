-- 0008_bookings: the booking broker's rows (hub/facility/booking.c).
--
-- One row per booking, on the state machine of DESIGN.md "Booking and loan broker":
-- requested → held → confirming → confirmed | failed; held → expired; held | confirmed →
-- cancelling → cancelled. The hub's side of "no double booking" is the exclusion constraint:
-- two active bookings of one facility never overlap in time (a lost race is a typed "slot
-- taken", recorded as a FAILED row so that its idempotency key answers the same again).
-- Bookings belong to the account behind the token's grant, so every client of the realm sees
-- them; they outlive the account (account_id becomes NULL, resident_subject stays).
-- lease_until keeps a recovery sweep (any hub) off a row a call is working on.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE rk_booking (
    id                text PRIMARY KEY CHECK (id ~ '^bk_[0-9a-f]{32}$'),
    account_id        bigint REFERENCES rk_identity_account (id) ON DELETE SET NULL,
    facility_id       bigint NOT NULL,                 -- rk_facility.id (no FK: syncs may remove it)
    tenant_id         bigint NOT NULL REFERENCES rk_tenant (id),
    adapter_id        bigint NOT NULL,                 -- the owner's adapter when booked
    owner_facility_id text NOT NULL,
    period            tstzrange NOT NULL CHECK (NOT isempty(period) AND lower_inc(period)
                                                AND NOT upper_inc(period)),
    state             text NOT NULL CHECK (state IN ('requested', 'held', 'confirming',
                          'confirmed', 'failed', 'cancelling', 'cancelled', 'expired')),
    resident_subject  text NOT NULL DEFAULT '',        -- pairwise id for the owner city (set when held)
    home_municipality text NOT NULL DEFAULT '',
    attendees         integer NOT NULL DEFAULT 0,
    purpose           text NOT NULL DEFAULT '',
    slot_id           text NOT NULL DEFAULT '',
    fee_yen           bigint,
    accepted_fee_yen  bigint,
    owner_reference   text NOT NULL DEFAULT '',
    hold_expires_at   timestamptz,
    cancellation_deadline timestamptz,
    error             text NOT NULL DEFAULT '',        -- BookingError value name when FAILED
    lease_until       timestamptz NOT NULL DEFAULT now(),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rk_booking_no_overlap EXCLUDE USING gist (facility_id WITH =, period WITH &&)
        WHERE (state IN ('requested', 'held', 'confirming', 'confirmed', 'cancelling'))
);
CREATE INDEX rk_booking_account ON rk_booking (account_id, lower(period) DESC);
CREATE INDEX rk_booking_pending ON rk_booking (state, lease_until)
    WHERE state IN ('requested', 'held', 'confirming', 'cancelling');

-- A client's idempotency key per account and method: the request it came with (a hash) and
-- the booking it made or acted on. The same key and request answer from the booking again.
CREATE TABLE rk_booking_idempotency (
    account_id   bigint NOT NULL REFERENCES rk_identity_account (id) ON DELETE CASCADE,
    method       text NOT NULL CHECK (method IN ('hold', 'confirm', 'cancel')),
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 128),
    request_hash text NOT NULL,
    booking_id   text NOT NULL REFERENCES rk_booking (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, method, key)
);

-- RFC 3339 in UTC with a Z, as the API writes instants.
CREATE FUNCTION rk_booking_utc(p timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(p AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- The account of a live grant of the realm tenant_id (NULL when the grant is gone, expired,
-- revoked or of another realm, or the account is disabled): booking calls check the token's
-- gid here, in the statement that acts.
CREATE FUNCTION rk_booking_account(p_grant text, p_tenant bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT g.account_id FROM rk_identity_grant g
      JOIN rk_identity_account a ON a.id = g.account_id
     WHERE g.id = p_grant AND g.tenant_id = p_tenant AND g.expires_at > now()
       AND g.revoked_at IS NULL AND a.disabled_at IS NULL
$$;

-- HoldSlot's first transaction. Answers json {"outcome": …, "id": …}: "new" (a REQUESTED row;
-- call the owner), "replay" (the key's booking), "reused" (same key, other request),
-- "login" (no live grant), "no_facility", "not_bookable", "taken" (a FAILED row with
-- BOOKING_ERROR_SLOT_FULL: an active booking overlaps).
CREATE FUNCTION rk_booking_hold(p_grant text, p_tenant bigint, p_key text, p_hash text,
                                p_id text, p_facility bigint, p_start timestamptz,
                                p_end timestamptz, p_home text,
                                p_attendees integer, p_purpose text, p_slot text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    v_account bigint := rk_booking_account(p_grant, p_tenant);
    v_idem rk_booking_idempotency;
    v_fac rk_facility;
BEGIN
    IF v_account IS NULL THEN
        RETURN json_build_object('outcome', 'login');
    END IF;
    SELECT * INTO v_idem FROM rk_booking_idempotency
     WHERE account_id = v_account AND method = 'hold' AND key = p_key;
    IF FOUND THEN
        RETURN json_build_object('outcome', CASE WHEN v_idem.request_hash = p_hash
                                 THEN 'replay' ELSE 'reused' END, 'id', v_idem.booking_id);
    END IF;
    SELECT f.* INTO v_fac FROM rk_facility f JOIN rk_adapter a ON a.id = f.adapter_id
     WHERE f.id = p_facility AND a.state = 'active';
    IF NOT FOUND THEN
        RETURN json_build_object('outcome', 'no_facility');
    END IF;
    IF NOT v_fac.bookable_via_hub THEN
        RETURN json_build_object('outcome', 'not_bookable');
    END IF;
    BEGIN
        INSERT INTO rk_booking (id, account_id, facility_id, tenant_id, adapter_id,
                                owner_facility_id, period, state,
                                home_municipality, attendees, purpose, slot_id, lease_until)
        VALUES (p_id, v_account, v_fac.id, v_fac.tenant_id, v_fac.adapter_id,
                v_fac.owner_facility_id, tstzrange(p_start, p_end, '[)'), 'requested',
                p_home, p_attendees, p_purpose, p_slot, now() + interval '60 seconds');
    EXCEPTION WHEN exclusion_violation THEN
        INSERT INTO rk_booking (id, account_id, facility_id, tenant_id, adapter_id,
                                owner_facility_id, period, state,
                                home_municipality, attendees, purpose, slot_id, error)
        VALUES (p_id, v_account, v_fac.id, v_fac.tenant_id, v_fac.adapter_id,
                v_fac.owner_facility_id, tstzrange(p_start, p_end, '[)'), 'failed',
                p_home, p_attendees, p_purpose, p_slot, 'BOOKING_ERROR_SLOT_FULL');
        INSERT INTO rk_booking_idempotency (account_id, method, key, request_hash, booking_id)
        VALUES (v_account, 'hold', p_key, p_hash, p_id);
        RETURN json_build_object('outcome', 'taken', 'id', p_id);
    END;
    INSERT INTO rk_booking_idempotency (account_id, method, key, request_hash, booking_id)
    VALUES (v_account, 'hold', p_key, p_hash, p_id);
    RETURN json_build_object('outcome', 'new', 'id', p_id);
END
$$;

-- ConfirmBooking's first transaction: json {"outcome": …, "id": …}: "confirm" (the row is
-- CONFIRMING now, or already was: call the owner), "replay" (nothing to do: answer the row),
-- "reused", "login", "not_found" (no such booking of this account), "expired" (the hold ran
-- out: the row is EXPIRED), "state" (not HELD/CONFIRMING/CONFIRMED).
CREATE FUNCTION rk_booking_confirm(p_grant text, p_tenant bigint, p_key text, p_hash text,
                                   p_id text, p_accepted bigint) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    v_account bigint := rk_booking_account(p_grant, p_tenant);
    v_idem rk_booking_idempotency;
    v_b rk_booking;
BEGIN
    IF v_account IS NULL THEN
        RETURN json_build_object('outcome', 'login');
    END IF;
    SELECT * INTO v_idem FROM rk_booking_idempotency
     WHERE account_id = v_account AND method = 'confirm' AND key = p_key;
    IF FOUND AND (v_idem.request_hash <> p_hash OR v_idem.booking_id <> p_id) THEN
        RETURN json_build_object('outcome', 'reused', 'id', v_idem.booking_id);
    END IF;
    SELECT * INTO v_b FROM rk_booking WHERE id = p_id AND account_id = v_account FOR UPDATE;
    IF NOT FOUND THEN
        RETURN json_build_object('outcome', 'not_found');
    END IF;
    IF v_idem.key IS NULL THEN
        INSERT INTO rk_booking_idempotency (account_id, method, key, request_hash, booking_id)
        VALUES (v_account, 'confirm', p_key, p_hash, p_id);
    END IF;
    IF v_b.state = 'confirming' THEN
        UPDATE rk_booking SET lease_until = now() + interval '60 seconds' WHERE id = p_id;
        RETURN json_build_object('outcome', 'confirm', 'id', p_id);
    END IF;
    IF v_b.state <> 'held' THEN
        RETURN json_build_object('outcome', CASE WHEN v_b.state = 'confirmed'
                                 OR (v_b.state = 'failed' AND v_idem.key IS NOT NULL)
                                 THEN 'replay' ELSE 'state' END,
                                 'id', p_id);
    END IF;
    IF v_b.hold_expires_at <= now() THEN
        UPDATE rk_booking SET state = 'expired', updated_at = now() WHERE id = p_id;
        RETURN json_build_object('outcome', 'expired', 'id', p_id);
    END IF;
    UPDATE rk_booking SET state = 'confirming', accepted_fee_yen = p_accepted,
                          lease_until = now() + interval '60 seconds', updated_at = now()
     WHERE id = p_id;
    RETURN json_build_object('outcome', 'confirm', 'id', p_id);
END
$$;
