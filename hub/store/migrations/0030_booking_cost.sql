-- 0030_booking_cost: the booking broker's statements made cheaper for PostgreSQL, with the same
-- answers (tests/bench/facility's bookings row; hub/facility/README.md "What a booking costs").
-- PostgreSQL 15 plans a LANGUAGE sql function's query again on every call unless it can inline
-- it into the caller's query, and it inlines neither a scalar function whose body has a FROM
-- nor an IMMUTABLE one around a STABLE function, nor a set-returning one whose arguments hold
-- a sub-select. So:
--   - rk_booking_utc was IMMUTABLE around to_char (only STABLE): now STABLE, inlined into every
--     query that formats an instant (six per booking read);
--   - rk_booking_account (a query: FROM) is now PL/pgSQL, its plan kept for the session;
--   - rk_facility_opens_days is now one expression (no FROM), inlined where it is called;
--   - rk_booking_hold reads the caller's home city first, so that rk_caller_terms (and
--     rk_resident_terms within it) is inlined into its terms query and planned once per
--     session for the owner city alone, instead of planned on every hold for all cities;
--   - rk_feed_booking_json (the feeds' trigger, on every HELD and CONFIRMED) is PL/pgSQL.

CREATE OR REPLACE FUNCTION rk_booking_utc(p timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT to_char(p AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

CREATE OR REPLACE FUNCTION rk_booking_account(p_grant text, p_tenant bigint) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT g.account_id FROM rk_identity_grant g
              JOIN rk_identity_account a ON a.id = g.account_id
             WHERE g.id = p_grant AND g.tenant_id = p_tenant AND g.expires_at > now()
               AND g.revoked_at IS NULL AND a.disabled_at IS NULL);
END
$$;

-- A whole number at key p_key of p_object (proto3 JSON), NULL when it is not a number there.
CREATE FUNCTION rk_jsonb_number_int(p_object jsonb, p_key text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(p_object -> p_key) = 'number'
                THEN (p_object ->> p_key)::integer END
$$;

-- As in 0021, written as one expression.
CREATE OR REPLACE FUNCTION rk_facility_opens_days(p_window jsonb, p_class text,
                                                  p_agreement_days integer)
RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_class IN ('resident', 'worker', 'student')
                     OR NOT coalesce(rk_jsonb_number_int(p_window, 'opensDaysBefore') > 0, false)
                THEN greatest(coalesce(rk_jsonb_number_int(p_window, 'opensDaysBefore'), 0), 0)
                ELSE least(rk_jsonb_number_int(p_window, 'opensDaysBefore'),
                           coalesce(nullif(CASE WHEN p_class = 'partner_area'
                                                THEN greatest(p_agreement_days, 0) END, 0),
                                    nullif(greatest(rk_jsonb_number_int(
                                               p_window, 'nonResidentOpensDaysBefore'), 0), 0),
                                    rk_jsonb_number_int(p_window, 'opensDaysBefore'))) END
$$;

-- HoldSlot's first transaction, as in 0021; the caller's home city is read first (an argument
-- with a sub-select would keep rk_caller_terms from being inlined).
CREATE OR REPLACE FUNCTION rk_booking_hold(p_grant text, p_tenant bigint, p_key text,
                                           p_hash text, p_id text, p_facility bigint,
                                           p_start timestamptz, p_end timestamptz, p_home text,
                                           p_attendees integer, p_purpose text, p_slot text)
RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    v_account bigint := rk_booking_account(p_grant, p_tenant);
    v_home bigint;
    v_idem rk_booking_idempotency;
    v_fac rk_facility;
    v_terms record;
    v_window jsonb;
    v_open_days integer;
    v_close_hours integer;
    v_cancel_hours integer;
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
    SELECT tenant_id INTO v_home FROM rk_identity_account WHERE id = v_account;
    SELECT * INTO v_terms
      FROM rk_caller_terms(v_home, v_account, 'facility.booking') rt
     WHERE rt.tenant_id = v_fac.tenant_id;
    IF NOT v_terms.eligible THEN
        RETURN json_build_object('outcome', 'not_eligible', 'owner',
                                 (SELECT json_build_object('ja', name_ja, 'en', name_en)
                                    FROM rk_tenant WHERE id = v_fac.tenant_id));
    END IF;
    v_window := CASE WHEN jsonb_typeof(v_fac.body -> 'bookingWindow') = 'object'
                     THEN v_fac.body -> 'bookingWindow' ELSE '{}' END;
    v_open_days := rk_facility_opens_days(v_window, v_terms.residency_class,
                                          v_terms.booking_window_days);
    v_close_hours := greatest(coalesce((v_window ->> 'closesHoursBefore')::integer, 0), 0);
    v_cancel_hours := (v_window ->> 'cancellationClosesHoursBefore')::integer;
    IF p_start < now() + v_close_hours * interval '1 hour' THEN
        RETURN json_build_object('outcome', 'outside_window', 'closes_at',
                                 rk_booking_utc(p_start - v_close_hours * interval '1 hour'));
    END IF;
    IF v_open_days > 0 AND p_start > now() + v_open_days * interval '1 day' THEN
        RETURN json_build_object('outcome', 'outside_window', 'opens_at',
                                 rk_booking_utc(p_start - v_open_days * interval '1 day'));
    END IF;
    BEGIN
        INSERT INTO rk_booking (id, account_id, facility_id, tenant_id, adapter_id,
                                owner_facility_id, period, state,
                                home_municipality, attendees, purpose, slot_id, lease_until,
                                residency_class, fee_basis, agreement_id, agreement_version,
                                cancellation_deadline)
        VALUES (p_id, v_account, v_fac.id, v_fac.tenant_id, v_fac.adapter_id,
                v_fac.owner_facility_id, tstzrange(p_start, p_end, '[)'), 'requested',
                p_home, p_attendees, p_purpose, p_slot, now() + interval '60 seconds',
                v_terms.residency_class, v_terms.fee_basis, v_terms.agreement_id,
                v_terms.agreement_version, p_start - v_cancel_hours * interval '1 hour');
    EXCEPTION WHEN exclusion_violation THEN
        INSERT INTO rk_booking (id, account_id, facility_id, tenant_id, adapter_id,
                                owner_facility_id, period, state,
                                home_municipality, attendees, purpose, slot_id, error,
                                residency_class, fee_basis, agreement_id, agreement_version)
        VALUES (p_id, v_account, v_fac.id, v_fac.tenant_id, v_fac.adapter_id,
                v_fac.owner_facility_id, tstzrange(p_start, p_end, '[)'), 'failed',
                p_home, p_attendees, p_purpose, p_slot, 'BOOKING_ERROR_SLOT_FULL',
                v_terms.residency_class, v_terms.fee_basis, v_terms.agreement_id,
                v_terms.agreement_version);
        INSERT INTO rk_booking_idempotency (account_id, method, key, request_hash, booking_id)
        VALUES (v_account, 'hold', p_key, p_hash, p_id);
        RETURN json_build_object('outcome', 'taken', 'id', p_id);
    END;
    INSERT INTO rk_booking_idempotency (account_id, method, key, request_hash, booking_id)
    VALUES (v_account, 'hold', p_key, p_hash, p_id);
    RETURN json_build_object('outcome', 'new', 'id', p_id);
END
$$;

-- As in 0019, in PL/pgSQL: the feeds' trigger builds it on every HELD and CONFIRMED, twice
-- for a resident of another city; as a LANGUAGE sql function with a FROM it was planned anew
-- each time.
CREATE OR REPLACE FUNCTION rk_feed_booking_json(b rk_booking, p_owner boolean) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT jsonb_strip_nulls(jsonb_build_object(
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
      FROM rk_tenant t WHERE t.id = b.tenant_id);
END
$$;
