-- 0011_resident_terms: what a resident may do and pays at another city's facilities — the
-- one place where agreements turn into terms (hub/facility/search.c, booking.c use it; the
-- exchange will record the agreement id and version each decision used).
--
-- rk_resident_terms(home, service) answers one row per tenant for a resident of `home` (NULL:
-- an anonymous caller): the residency class (resident at home; partner_area where an agreement
-- of that tenant with `home` is in force today in Japan, covers `service` and has terms for
-- partner_area; outsider otherwise), whether they are eligible (anonymous callers are: they
-- are told at booking time), the side of the fee schedule, the agreement's booking window and
-- lottery terms, and the agreement's id and version.
CREATE FUNCTION rk_resident_terms(p_home bigint, p_service text)
RETURNS TABLE (tenant_id bigint, residency_class text, eligible boolean, fee_basis text,
               booking_window_days integer, lottery boolean, agreement_id bigint,
               agreement_version integer)
LANGUAGE sql STABLE AS $$
    SELECT t.id,
           CASE WHEN p_home IS NULL THEN 'outsider' WHEN t.id = p_home THEN 'resident'
                WHEN g.id IS NOT NULL THEN 'partner_area' ELSE 'outsider' END,
           p_home IS NULL OR t.id = p_home OR g.id IS NOT NULL,
           CASE WHEN t.id = p_home THEN 'resident_rate'
                WHEN g.id IS NOT NULL THEN coalesce(g.terms -> 'partner_area' ->> 'fee',
                                                    'non_resident_rate')
                ELSE 'non_resident_rate' END,
           (g.terms -> 'partner_area' ->> 'booking_window_days')::integer,
           CASE WHEN t.id = p_home THEN true
                ELSE coalesce((g.terms -> 'partner_area' ->> 'lottery')::boolean, false) END,
           g.id, g.version
      FROM rk_tenant t
      LEFT JOIN LATERAL (
          SELECT a.id, a.version, a.terms FROM rk_agreement a
           WHERE a.tenant_id = t.id AND a.from_tenant_id = p_home
             AND p_service = ANY (a.services) AND a.terms ? 'partner_area'
             AND a.valid_from <= (now() AT TIME ZONE 'Asia/Tokyo')::date
             AND (a.valid_until IS NULL OR a.valid_until >= (now() AT TIME ZONE 'Asia/Tokyo')::date)
           ORDER BY a.id LIMIT 1) g ON t.id IS DISTINCT FROM p_home
$$;

-- How many days ahead a caller of class p_class may book a facility whose BookingWindow
-- (proto3 JSON) is p_window, with an agreement window of p_agreement_days (partner_area only;
-- NULL or 0: none); 0 = no limit. Residents: the facility's opens_days_before. Partners: the
-- agreement's days, else the facility's non-resident window, never beyond the residents'.
-- Outsiders: the non-resident window (0 there: the residents').
CREATE FUNCTION rk_facility_opens_days(p_window jsonb, p_class text, p_agreement_days integer)
RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_class = 'resident' OR NOT coalesce(w.resident_days > 0, false)
                THEN greatest(coalesce(w.resident_days, 0), 0)
                ELSE least(w.resident_days,
                           coalesce(nullif(CASE WHEN p_class = 'partner_area'
                                                THEN greatest(p_agreement_days, 0) END, 0),
                                    nullif(greatest(w.other_days, 0), 0), w.resident_days)) END
      FROM (SELECT CASE WHEN jsonb_typeof(p_window -> 'opensDaysBefore') = 'number'
                        THEN (p_window ->> 'opensDaysBefore')::integer END AS resident_days,
                   CASE WHEN jsonb_typeof(p_window -> 'nonResidentOpensDaysBefore') = 'number'
                        THEN (p_window ->> 'nonResidentOpensDaysBefore')::integer END AS other_days
           ) w
$$;

-- The lowest fee per 60 minutes of a FeeSchedule (proto3 JSON) on one side ('residentFee' or
-- 'nonResidentFee'), rounded up like facility/fee.c; NULL when no rate has that side.
CREATE FUNCTION rk_fee_hourly_from(p_fees jsonb, p_side text) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
    SELECT min(ceil(coalesce(r -> p_side ->> 'amount', '0')::numeric * 60
                    / (r ->> 'unitMinutes')::numeric))::bigint
      FROM jsonb_array_elements(CASE WHEN jsonb_typeof(p_fees -> 'rates') = 'array'
                                     THEN p_fees -> 'rates' ELSE '[]' END) r
     WHERE jsonb_typeof(r -> p_side) = 'object'
       AND coalesce(r -> p_side ->> 'amount', '0') ~ '^-?[0-9]{1,15}$'
       AND coalesce(r ->> 'unitMinutes', '') ~ '^[0-9]{1,5}$'
       AND (r ->> 'unitMinutes')::integer > 0
$$;

ALTER TABLE rk_facility
    ADD COLUMN resident_hourly_yen bigint
        GENERATED ALWAYS AS (rk_fee_hourly_from(fees, 'residentFee')) STORED,
    ADD COLUMN non_resident_hourly_yen bigint
        GENERATED ALWAYS AS (rk_fee_hourly_from(fees, 'nonResidentFee')) STORED;

-- A booking remembers the terms it was made on: the class, the side of the fee schedule and
-- the agreement (NULL for the owner's own residents).
ALTER TABLE rk_booking
    ADD COLUMN residency_class   text NOT NULL DEFAULT 'resident'
        CHECK (residency_class IN ('resident', 'worker', 'student', 'partner_area', 'outsider')),
    ADD COLUMN fee_basis         text NOT NULL DEFAULT 'resident_rate'
        CHECK (fee_basis IN ('resident_rate', 'non_resident_rate')),
    ADD COLUMN agreement_id      bigint,
    ADD COLUMN agreement_version integer;

-- HoldSlot's first transaction, now with the terms: besides 0008's outcomes,
-- "not_eligible" (no agreement lets the caller book this city's facilities; "owner" names the
-- city) and "outside_window" ("opens_at": the first moment the slot may be booked, by
-- rk_facility_opens_days, or "closes_at": booking closed then, closes_hours_before the start;
-- a start in the past is outside the window). The cancellation
-- deadline comes from cancellation_closes_hours_before (the owner's own answer may replace it).
CREATE OR REPLACE FUNCTION rk_booking_hold(p_grant text, p_tenant bigint, p_key text,
                                           p_hash text, p_id text, p_facility bigint,
                                           p_start timestamptz, p_end timestamptz, p_home text,
                                           p_attendees integer, p_purpose text, p_slot text)
RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    v_account bigint := rk_booking_account(p_grant, p_tenant);
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
    SELECT * INTO v_terms
      FROM rk_resident_terms((SELECT tenant_id FROM rk_identity_account WHERE id = v_account),
                             'facility.booking') rt
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
