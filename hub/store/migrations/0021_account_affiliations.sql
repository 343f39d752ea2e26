-- 0021_account_affiliations: 在勤 and 在学 — residents who work or study in another city.
--
-- An account may name the tenant where its holder works (works_in_tenant_id) and where they
-- study (studies_in_tenant_id), recorded by the home city's tenant-admin (declared at
-- registration). rk_caller_terms(home, account, service) is rk_resident_terms (0011, the one
-- place agreements become terms) for a particular account: at the city where the account works
-- (studies) and does not live, its class is worker (student) — eligible, charged the resident
-- rate, the residents' booking window and lotteries, by the provider's own rules for 在勤・在学
-- (no agreement involved). Elsewhere it is what rk_resident_terms says. HoldSlot
-- (rk_booking_hold) and the facility searches use it; rk_facility_opens_days gives workers and
-- students the residents' window.
ALTER TABLE rk_identity_account
    ADD COLUMN works_in_tenant_id bigint REFERENCES rk_tenant (id),
    ADD COLUMN studies_in_tenant_id bigint REFERENCES rk_tenant (id),
    ADD CONSTRAINT rk_identity_account_works_elsewhere CHECK (works_in_tenant_id <> tenant_id),
    ADD CONSTRAINT rk_identity_account_studies_elsewhere CHECK (studies_in_tenant_id <> tenant_id);

CREATE FUNCTION rk_caller_terms(p_home bigint, p_account bigint, p_service text)
RETURNS TABLE (tenant_id bigint, residency_class text, eligible boolean, fee_basis text,
               booking_window_days integer, lottery boolean, agreement_id bigint,
               agreement_version integer)
LANGUAGE sql STABLE AS $$
    SELECT rt.tenant_id,
           coalesce(x.class, rt.residency_class),
           rt.eligible OR x.class IS NOT NULL,
           CASE WHEN x.class IS NOT NULL THEN 'resident_rate' ELSE rt.fee_basis END,
           CASE WHEN x.class IS NOT NULL THEN NULL ELSE rt.booking_window_days END,
           rt.lottery OR x.class IS NOT NULL,
           CASE WHEN x.class IS NOT NULL THEN NULL ELSE rt.agreement_id END,
           CASE WHEN x.class IS NOT NULL THEN NULL ELSE rt.agreement_version END
      FROM rk_resident_terms(p_home, p_service) rt
      LEFT JOIN rk_identity_account a ON a.id = p_account
      CROSS JOIN LATERAL (SELECT CASE
               WHEN rt.residency_class = 'resident' OR a.id IS NULL THEN NULL
               WHEN a.works_in_tenant_id = rt.tenant_id THEN 'worker'
               WHEN a.studies_in_tenant_id = rt.tenant_id THEN 'student' END AS class) x
$$;

CREATE OR REPLACE FUNCTION rk_facility_opens_days(p_window jsonb, p_class text,
                                                  p_agreement_days integer)
RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_class IN ('resident', 'worker', 'student')
                     OR NOT coalesce(w.resident_days > 0, false)
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

-- HoldSlot's first transaction (0011) on the account's own terms (rk_caller_terms).
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
      FROM rk_caller_terms((SELECT tenant_id FROM rk_identity_account WHERE id = v_account),
                           v_account, 'facility.booking') rt
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
