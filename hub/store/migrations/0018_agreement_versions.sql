-- 0018_agreement_versions: agreements as governed objects (hub/tenancy/agreement_admin.c).
--
-- rk_agreement stays what every reader uses: one row per agreement (its id is Agreement.id,
-- stable across versions) holding the services, validity and terms of the version IN FORCE,
-- and now its state. File-declared agreements (origin 'file') are 'active' as before. An
-- agreement made through AdminService (origin 'admin') is 'proposed' until the other party
-- approves its first version, 'rejected' when refused, 'ended' when either party ended it.
--
-- rk_agreement_version keeps every version of an admin agreement: what was proposed, by which
-- tenant and when, and the decision (approve, reject, end: when, by which tenant, the note).
-- A new version is 'proposed' while the version in force stays 'active' and keeps applying;
-- approving it copies its terms into rk_agreement and marks the old one 'superseded'.
ALTER TABLE rk_agreement
    ADD COLUMN state text NOT NULL DEFAULT 'active'
        CHECK (state IN ('proposed', 'active', 'rejected', 'ended'));

CREATE TABLE rk_agreement_version (
    agreement_id   bigint NOT NULL REFERENCES rk_agreement (id) ON DELETE CASCADE,
    version        integer NOT NULL CHECK (version >= 1),
    services       text[] NOT NULL,
    valid_from     date NOT NULL,
    valid_until    date,
    terms          jsonb NOT NULL,
    title          jsonb NOT NULL DEFAULT '{}',  -- LocalizedText (proto3 JSON)
    notes          jsonb NOT NULL DEFAULT '{}',
    state          text NOT NULL CHECK (state IN ('proposed', 'active', 'rejected', 'ended',
                                                  'superseded')),
    proposed_by    bigint NOT NULL REFERENCES rk_tenant (id),
    proposed_at    timestamptz NOT NULL DEFAULT now(),
    decided_by     bigint REFERENCES rk_tenant (id),
    decided_at     timestamptz,
    ended_by       bigint REFERENCES rk_tenant (id),
    ended_at       timestamptz,
    decision_note  text NOT NULL DEFAULT '' CHECK (length(decision_note) <= 1000),
    PRIMARY KEY (agreement_id, version),
    CHECK (valid_until IS NULL OR valid_until >= valid_from)
);

-- The one definition of "in force": approved and within its validity, today in Japan.
CREATE FUNCTION rk_agreement_in_force(p_state text, p_from date, p_until date) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT p_state = 'active' AND p_from <= (now() AT TIME ZONE 'Asia/Tokyo')::date
       AND (p_until IS NULL OR p_until >= (now() AT TIME ZONE 'Asia/Tokyo')::date)
$$;

-- As in 0011, seeing only agreements in force.
CREATE OR REPLACE FUNCTION rk_resident_terms(p_home bigint, p_service text)
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
             AND rk_agreement_in_force(a.state, a.valid_from, a.valid_until)
           ORDER BY a.id LIMIT 1) g ON t.id IS DISTINCT FROM p_home
$$;

-- Every version of every agreement: admin versions as stored, a file agreement as its one
-- version in force (proposed by the provider, who declared it).
CREATE VIEW rk_agreement_history AS
    SELECT a.id AS agreement_id, v.version, a.tenant_id AS provider_id,
           a.from_tenant_id AS home_id, a.origin, v.services, v.valid_from, v.valid_until,
           v.terms, v.title, v.notes, v.state, v.proposed_by, v.proposed_at, v.decided_by,
           v.decided_at, v.ended_by, v.ended_at, v.decision_note
      FROM rk_agreement a JOIN rk_agreement_version v ON v.agreement_id = a.id
     WHERE a.origin = 'admin'
    UNION ALL
    SELECT a.id, a.version, a.tenant_id, a.from_tenant_id, a.origin, a.services, a.valid_from,
           a.valid_until, a.terms, jsonb_build_object('ja', a.agreement_key), '{}'::jsonb,
           'active', a.tenant_id, a.created_at, a.tenant_id, a.updated_at, NULL, NULL, ''
      FROM rk_agreement a WHERE a.origin = 'file';

CREATE FUNCTION rk_agreement_utc(p timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(p AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

CREATE FUNCTION rk_agreement_tenant_ref(p_id bigint) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object('code', code, 'slug', slug,
                             'name', json_build_object('ja', name_ja, 'en', name_en,
                                                       'kana', name_kana))
      FROM rk_tenant WHERE id = p_id
$$;

-- One version as the proto3 JSON of renkei.v1.Agreement. Services are named as the contract
-- groups them (facility.* → FACILITY_BOOKING, library.* → LIBRARY_LOAN); terms in the order of
-- residency classes.
CREATE FUNCTION rk_agreement_json(h rk_agreement_history) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_strip_nulls(json_build_object(
        'id', h.agreement_id::text, 'version', h.version,
        'home', rk_agreement_tenant_ref(h.home_id),
        'provider', rk_agreement_tenant_ref(h.provider_id),
        'services', (SELECT json_agg(DISTINCT CASE
                         WHEN s LIKE 'facility.%' THEN 'AGREEMENT_SERVICE_FACILITY_BOOKING'
                         WHEN s LIKE 'library.%' THEN 'AGREEMENT_SERVICE_LIBRARY_LOAN'
                         ELSE 'AGREEMENT_SERVICE_' || upper(s) END)
                       FROM unnest(h.services) s),
        'terms', (SELECT json_agg(json_strip_nulls(json_build_object(
                          'residencyClass', 'RESIDENCY_CLASS_' || upper(c.key),
                          'feeBasis', 'FEE_BASIS_' || upper(c.value ->> 'fee'),
                          'bookingWindowDays', (c.value ->> 'booking_window_days')::integer,
                          'lottery', (c.value ->> 'lottery')::boolean,
                          'loanLimit', (c.value ->> 'loan_limit')::integer,
                          'pickupBranches',
                          (SELECT json_agg(json_build_object(
                                      'municipality', rk_agreement_tenant_ref(h.provider_id),
                                      'branchId', b))
                             FROM jsonb_array_elements_text(c.value -> 'pickup_branches') b)))
                          ORDER BY array_position(ARRAY['resident', 'worker', 'student',
                                                        'partner_area', 'outsider'], c.key))
                    FROM jsonb_each(h.terms) c),
        'validity', json_build_object('startDate', h.valid_from::text,
                                      'endDate', h.valid_until::text),
        'title', h.title, 'notes', h.notes,
        'state', 'AGREEMENT_STATE_' || upper(h.state),
        'proposedBy', rk_agreement_tenant_ref(h.proposed_by),
        'proposedAt', rk_agreement_utc(h.proposed_at),
        'decidedAt', rk_agreement_utc(h.decided_at),
        'endedAt', rk_agreement_utc(h.ended_at),
        'decisionNote', nullif(h.decision_note, '')))
$$;

CREATE FUNCTION rk_agreement_refusal(p_code text, p_message text) RETURNS json
LANGUAGE sql IMMUTABLE AS $$
    SELECT json_build_object('code', p_code, 'message', p_message)
$$;

-- NULL when p_caller is a party of agreement p_id and the API may change it; otherwise the
-- refusal, naming p_field: NOT_FOUND, or FAILED_PRECONDITION for a file-declared agreement
-- (its file is its source).
CREATE FUNCTION rk_agreement_changeable(p_field text, p_caller rk_tenant, p_id bigint)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN a.id IS NULL OR p_caller.id NOT IN (a.tenant_id, a.from_tenant_id)
                THEN rk_agreement_refusal('not_found', format('%s: no agreement %s of %s',
                                                              p_field, p_id, p_caller.slug))
                WHEN a.origin = 'file'
                THEN rk_agreement_refusal('failed_precondition', format(
                    '%s: agreement %s is declared in tenants/%s.json (%s); change it there',
                    p_field, p_id, p.slug, a.agreement_key)) END
      FROM (SELECT 1) one
      LEFT JOIN rk_agreement a ON a.id = p_id
      LEFT JOIN rk_tenant p ON p.id = a.tenant_id
$$;

-- The version's answer: {"agreement": …}.
CREATE FUNCTION rk_agreement_answer(p_id bigint, p_version integer) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object('agreement', rk_agreement_json(h))
      FROM rk_agreement_history h WHERE h.agreement_id = p_id AND h.version = p_version
$$;

-- ProposeAgreement, after the hub validated p_body (a tenants/*.json agreement object: services,
-- valid_from, valid_until, terms) and authorised the caller for p_tenant. p_id NULL: a new
-- agreement; else a new version of it (the version in force keeps applying until approved; a
-- proposal still waiting is superseded by this one).
CREATE FUNCTION rk_agreement_propose(p_tenant text, p_home text, p_provider text, p_id bigint,
                                     p_body jsonb, p_title jsonb, p_notes jsonb) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    v_caller rk_tenant;
    v_home rk_tenant;
    v_provider rk_tenant;
    v_agreement rk_agreement;
    v_version integer;
    v_refusal json;
BEGIN
    SELECT * INTO v_caller FROM rk_tenant WHERE p_tenant IN (slug, code);
    IF NOT FOUND THEN
        RETURN rk_agreement_refusal('not_found', format('tenant: no tenant %L', p_tenant));
    END IF;
    SELECT * INTO v_home FROM rk_tenant WHERE p_home IN (slug, code);
    IF NOT FOUND THEN
        RETURN rk_agreement_refusal('not_found', format('agreement.home: no tenant %L', p_home));
    END IF;
    SELECT * INTO v_provider FROM rk_tenant WHERE p_provider IN (slug, code);
    IF NOT FOUND THEN
        RETURN rk_agreement_refusal('not_found',
                                    format('agreement.provider: no tenant %L', p_provider));
    END IF;
    IF v_home.id = v_provider.id THEN
        RETURN rk_agreement_refusal('invalid_argument',
            'agreement.home: is the provider itself; an agreement is between two tenants');
    END IF;
    IF v_caller.id NOT IN (v_home.id, v_provider.id) THEN
        RETURN rk_agreement_refusal('permission_denied', format(
            'tenant: %s is neither the home (%s) nor the provider (%s) of the agreement',
            v_caller.slug, v_home.slug, v_provider.slug));
    END IF;
    IF p_id IS NULL THEN
        INSERT INTO rk_agreement (tenant_id, agreement_key, from_tenant_id, services, valid_from,
                                  valid_until, terms, origin, state)
        VALUES (v_provider.id, 'admin-new-' || txid_current(), v_home.id,
                ARRAY(SELECT jsonb_array_elements_text(p_body -> 'services')),
                (p_body ->> 'valid_from')::date, (p_body ->> 'valid_until')::date,
                p_body -> 'terms', 'admin', 'proposed')
        RETURNING * INTO v_agreement;
        UPDATE rk_agreement SET agreement_key = 'admin-' || id WHERE id = v_agreement.id;
        v_version := 1;
    ELSE
        v_refusal := rk_agreement_changeable('agreement.id', v_caller, p_id);
        IF v_refusal IS NOT NULL THEN
            RETURN v_refusal;
        END IF;
        SELECT * INTO v_agreement FROM rk_agreement WHERE id = p_id FOR UPDATE;
        IF (v_agreement.tenant_id, v_agreement.from_tenant_id) <> (v_provider.id, v_home.id) THEN
            RETURN rk_agreement_refusal('invalid_argument', format(
                'agreement.home: agreement %s is %s → %s; a new version keeps its parties',
                p_id, (SELECT slug FROM rk_tenant WHERE id = v_agreement.from_tenant_id),
                (SELECT slug FROM rk_tenant WHERE id = v_agreement.tenant_id)));
        END IF;
        SELECT max(version) + 1 INTO v_version FROM rk_agreement_version
         WHERE agreement_id = p_id;
        UPDATE rk_agreement_version
           SET state = 'superseded', decided_at = now(), decided_by = v_caller.id,
               decision_note = format('replaced by version %s before a decision', v_version)
         WHERE agreement_id = p_id AND state = 'proposed';
    END IF;
    INSERT INTO rk_agreement_version (agreement_id, version, services, valid_from, valid_until,
                                      terms, title, notes, state, proposed_by)
    VALUES (v_agreement.id, v_version,
            ARRAY(SELECT jsonb_array_elements_text(p_body -> 'services')),
            (p_body ->> 'valid_from')::date, (p_body ->> 'valid_until')::date, p_body -> 'terms',
            coalesce(p_title, '{}'), coalesce(p_notes, '{}'), 'proposed', v_caller.id);
    RETURN rk_agreement_answer(v_agreement.id, v_version);
END
$$;

-- ApproveAgreement (p_approve) or RejectAgreement of version p_version by p_tenant, which must
-- be the party that did not propose it. Approving makes it the version in force.
CREATE FUNCTION rk_agreement_decide(p_tenant text, p_id bigint, p_version integer,
                                    p_approve boolean, p_note text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    v_caller rk_tenant;
    v_agreement rk_agreement;
    v_row rk_agreement_version;
BEGIN
    SELECT * INTO v_caller FROM rk_tenant WHERE p_tenant IN (slug, code);
    IF NOT FOUND THEN
        RETURN rk_agreement_refusal('not_found', format('tenant: no tenant %L', p_tenant));
    END IF;
    SELECT * INTO v_agreement FROM rk_agreement WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN rk_agreement_refusal('not_found', format('agreement_id: no agreement %s', p_id));
    END IF;
    IF v_caller.id NOT IN (v_agreement.tenant_id, v_agreement.from_tenant_id) THEN
        RETURN rk_agreement_refusal('permission_denied', format(
            'tenant: %s is not a party of agreement %s; only the other party may decide on a proposal',
            v_caller.slug, p_id));
    END IF;
    SELECT * INTO v_row FROM rk_agreement_version
     WHERE agreement_id = p_id AND version = p_version FOR UPDATE;
    IF NOT FOUND THEN
        RETURN rk_agreement_refusal('not_found', format(
            'version: agreement %s has no version %s', p_id, p_version));
    END IF;
    IF v_row.decided_by = v_caller.id
       AND v_row.state = (CASE WHEN p_approve THEN 'active' ELSE 'rejected' END) THEN
        RETURN rk_agreement_answer(p_id, p_version); -- the same decision again
    END IF;
    IF v_row.state <> 'proposed' THEN
        RETURN rk_agreement_refusal('failed_precondition', format(
            'version: version %s of agreement %s is %s, not waiting for a decision',
            p_version, p_id, v_row.state));
    END IF;
    IF v_row.proposed_by = v_caller.id THEN
        RETURN rk_agreement_refusal('permission_denied', format(
            'tenant: %s proposed version %s; the other party (%s) must decide on it',
            v_caller.slug, p_version,
            (SELECT slug FROM rk_tenant WHERE id IN (v_agreement.tenant_id,
                                                     v_agreement.from_tenant_id)
                                          AND id <> v_caller.id)));
    END IF;
    IF p_approve THEN
        UPDATE rk_agreement_version SET state = 'superseded'
         WHERE agreement_id = p_id AND state = 'active';
        UPDATE rk_agreement_version
           SET state = 'active', decided_by = v_caller.id, decided_at = now(),
               decision_note = p_note
         WHERE agreement_id = p_id AND version = p_version;
        UPDATE rk_agreement
           SET services = v_row.services, valid_from = v_row.valid_from,
               valid_until = v_row.valid_until, terms = v_row.terms, version = p_version,
               state = 'active', updated_at = now()
         WHERE id = p_id;
    ELSE
        UPDATE rk_agreement_version
           SET state = 'rejected', decided_by = v_caller.id, decided_at = now(),
               decision_note = p_note
         WHERE agreement_id = p_id AND version = p_version;
        UPDATE rk_agreement SET state = 'rejected', updated_at = now()
         WHERE id = p_id AND state = 'proposed';
    END IF;
    RETURN rk_agreement_answer(p_id, p_version);
END
$$;

-- EndAgreement by either party: at once (p_end_text '': no longer in force from now; the
-- version in force becomes 'ended' and a waiting proposal is ended with it), or from a later
-- day (the version in force stays active with its validity ending that day).
CREATE FUNCTION rk_agreement_end(p_tenant text, p_id bigint, p_end_text text, p_note text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    v_caller rk_tenant;
    v_agreement rk_agreement;
    v_today date := (now() AT TIME ZONE 'Asia/Tokyo')::date;
    v_end_date date;
    v_refusal json;
BEGIN
    IF p_end_text <> '' THEN
        BEGIN
            IF p_end_text !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
                RAISE invalid_datetime_format;
            END IF;
            v_end_date := p_end_text::date;
        EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow THEN
            RETURN rk_agreement_refusal('invalid_argument', format(
                'end_date: %L is not a date YYYY-MM-DD', p_end_text));
        END;
    END IF;
    SELECT * INTO v_caller FROM rk_tenant WHERE p_tenant IN (slug, code);
    IF NOT FOUND THEN
        RETURN rk_agreement_refusal('not_found', format('tenant: no tenant %L', p_tenant));
    END IF;
    v_refusal := rk_agreement_changeable('agreement_id', v_caller, p_id);
    IF v_refusal IS NOT NULL THEN
        RETURN v_refusal;
    END IF;
    SELECT * INTO v_agreement FROM rk_agreement WHERE id = p_id FOR UPDATE;
    IF v_agreement.state <> 'active' THEN
        RETURN rk_agreement_refusal('failed_precondition', format(
            'agreement_id: agreement %s is %s, not in force', p_id, v_agreement.state));
    END IF;
    IF v_end_date IS NOT NULL AND (v_end_date < v_today OR v_end_date < v_agreement.valid_from
                                   OR v_end_date > v_agreement.valid_until) THEN
        RETURN rk_agreement_refusal('invalid_argument', format(
            'end_date: %s is not between today (%s) and the end of its validity', v_end_date,
            v_today));
    END IF;
    IF v_end_date IS NULL THEN
        UPDATE rk_agreement SET state = 'ended', updated_at = now() WHERE id = p_id;
        UPDATE rk_agreement_version
           SET state = 'ended', ended_by = v_caller.id, ended_at = now(), decision_note = p_note
         WHERE agreement_id = p_id AND state IN ('active', 'proposed');
    ELSE
        UPDATE rk_agreement SET valid_until = v_end_date, updated_at = now() WHERE id = p_id;
        UPDATE rk_agreement_version
           SET valid_until = v_end_date, ended_by = v_caller.id, ended_at = now(),
               decision_note = p_note
         WHERE agreement_id = p_id AND state = 'active';
    END IF;
    RETURN rk_agreement_answer(p_id, v_agreement.version);
END
$$;

-- GetAgreement: one version (p_version 0: the latest) of an agreement of p_tenant.
CREATE FUNCTION rk_agreement_get(p_tenant text, p_id bigint, p_version integer) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_caller rk_tenant;
    v_version integer;
BEGIN
    SELECT * INTO v_caller FROM rk_tenant WHERE p_tenant IN (slug, code);
    IF NOT FOUND THEN
        RETURN rk_agreement_refusal('not_found', format('tenant: no tenant %L', p_tenant));
    END IF;
    SELECT max(h.version) INTO v_version FROM rk_agreement_history h
     WHERE h.agreement_id = p_id AND v_caller.id IN (h.provider_id, h.home_id)
       AND (p_version = 0 OR h.version = p_version);
    IF v_version IS NULL THEN
        RETURN rk_agreement_refusal('not_found', format(
            'agreement_id: no agreement %s of %s%s', p_id, v_caller.slug,
            CASE WHEN p_version > 0 THEN ' with version ' || p_version ELSE '' END));
    END IF;
    RETURN rk_agreement_answer(p_id, v_version);
END
$$;

-- ListAgreements: versions in p_states where p_tenant is home or provider, newest first,
-- p_limit from p_offset; nextPageToken is the following offset.
CREATE FUNCTION rk_agreement_list(p_tenant text, p_states text[], p_offset integer,
                                  p_limit integer) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_caller rk_tenant;
    v_page json;
    v_more boolean;
BEGIN
    SELECT * INTO v_caller FROM rk_tenant WHERE p_tenant IN (slug, code);
    IF NOT FOUND THEN
        RETURN rk_agreement_refusal('not_found', format('tenant: no tenant %L', p_tenant));
    END IF;
    SELECT coalesce(json_agg(rk_agreement_json(h) ORDER BY h.proposed_at DESC,
                             h.agreement_id DESC, h.version DESC), '[]')
      INTO v_page
      FROM (SELECT * FROM rk_agreement_history h
             WHERE v_caller.id IN (h.provider_id, h.home_id) AND h.state = ANY (p_states)
             ORDER BY h.proposed_at DESC, h.agreement_id DESC, h.version DESC
            OFFSET p_offset LIMIT p_limit) h;
    SELECT count(*) > p_offset + p_limit INTO v_more FROM rk_agreement_history h
     WHERE v_caller.id IN (h.provider_id, h.home_id) AND h.state = ANY (p_states);
    RETURN json_build_object('agreements', v_page, 'page', json_strip_nulls(json_build_object(
        'nextPageToken', CASE WHEN v_more THEN (p_offset + p_limit)::text END)));
END
$$;
