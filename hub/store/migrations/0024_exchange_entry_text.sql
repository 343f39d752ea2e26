-- 0024_exchange_entry_text: the same exchange log entries and receipts for a fraction of the
-- PostgreSQL time per rk_exchange_record() (issue 8: a cross-city booking at >= 0.9x the
-- same-city rate in tests/bench/exchange; hub/exchange/README.md):
--   - an entry has a fixed shape, so its canonical JSON (RFC 8785) is written by concatenation
--     with the members in sorted order, instead of by rk_canonical_json()'s recursion over a jsonb
--     built for the purpose. Strings go through to_json(text)::text or a jsonb string's text, both
--     PostgreSQL's escape_json, which escapes exactly what JCS does (" \ \b \f \n \r \t, other
--     control characters as lower-case \u00xx; '/', DEL, U+2028 and all non-ASCII as they are);
--     integers are bigint/integer text or a fee checked to be 1 to 15 digits. The two chains'
--     entries share all but previous_hash, sequence and tenant, which are written once;
--   - rk_exchange_append_pair() locks and reads both chain rows in one statement, inserts both
--     entries in one and moves both heads (and the provider's receipt count) in one; the two
--     tenants are read by one query; the argument checks use jsonb operators, not
--     jsonb_each/jsonb_object_keys subqueries.
-- rk_canonical_json() stays the reference and serves receipt payloads. Every stored entry keeps
-- its bytes; tests/integration/exchange_log_test.sh checks that each new entry is byte for byte
-- rk_canonical_json() of its own content (adversarial strings included) and that a chain begun
-- by the functions of 0013 verifies across this migration. This file may be applied again
-- (CREATE OR REPLACE), which that test does after writing entries the old way.

-- Appends one entry to each of two different tenants' chains in the caller's transaction and
-- holds both chain rows locked to commit (taken in tenant id order: no deadlock). Each entry's
-- text is p_front || "previous_hash" || p_middle || "sequence" and "tenant" || p_back || '}':
-- p_front is '{' and the members sorting before "previous_hash", ending with ',"kind":…,';
-- p_middle the members from "provider" to "resource"; p_back ',"time":{…}' or ''. A receipt
-- (p_receipt not NULL) counts as the first tenant's next receipt. Returns the first tenant's
-- new sequence and, with a receipt, its receipt number.
CREATE OR REPLACE FUNCTION rk_exchange_append_pair(p_first bigint, p_first_code text,
                                                   p_second bigint, p_second_code text,
                                                   p_kind text, p_receipt text, p_front text,
                                                   p_middle text, p_back text,
                                                   OUT first_sequence bigint,
                                                   OUT receipt_number bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_row record;
    v_rows integer;
    v_seq1 bigint;
    v_seq2 bigint;
    v_text1 text;
    v_text2 text;
    v_hash1 text;
    v_hash2 text;
BEGIN
    FOR v_attempt IN 1..2 LOOP
        v_rows := 0;
        FOR v_row IN SELECT tenant_id, head_sequence, head_hash, receipts FROM rk_exchange_chain
                      WHERE tenant_id IN (p_first, p_second) ORDER BY tenant_id FOR UPDATE LOOP
            v_rows := v_rows + 1;
            IF v_row.tenant_id = p_first THEN
                v_seq1 := v_row.head_sequence + 1;
                receipt_number := v_row.receipts + 1;
                v_text1 := p_front || '"previous_hash":' || to_json(v_row.head_hash)::text || ','
                           || p_middle || ',"sequence":' || v_seq1 || ',"tenant":'
                           || to_json(p_first_code)::text || p_back || '}';
            ELSE
                v_seq2 := v_row.head_sequence + 1;
                v_text2 := p_front || '"previous_hash":' || to_json(v_row.head_hash)::text || ','
                           || p_middle || ',"sequence":' || v_seq2 || ',"tenant":'
                           || to_json(p_second_code)::text || p_back || '}';
            END IF;
        END LOOP;
        EXIT WHEN v_rows = 2;
        INSERT INTO rk_exchange_chain (tenant_id)
        VALUES (LEAST(p_first, p_second)), (GREATEST(p_first, p_second)) ON CONFLICT DO NOTHING;
    END LOOP;
    v_hash1 := rk_exchange_sha256(v_text1);
    v_hash2 := rk_exchange_sha256(v_text2);
    INSERT INTO rk_exchange_log (tenant_id, sequence, kind, receipt_id, recorded_at, entry_hash,
                                 canonical_json)
    VALUES (p_first, v_seq1, p_kind, p_receipt, now(), v_hash1, v_text1),
           (p_second, v_seq2, p_kind, p_receipt, now(), v_hash2, v_text2);
    UPDATE rk_exchange_chain
       SET head_sequence = head_sequence + 1,
           head_hash = CASE tenant_id WHEN p_first THEN v_hash1 ELSE v_hash2 END,
           receipts = receipts + CASE WHEN tenant_id = p_first AND p_receipt IS NOT NULL
                                      THEN 1 ELSE 0 END,
           unanchored_since = COALESCE(unanchored_since, now())
     WHERE tenant_id IN (p_first, p_second);
    first_sequence := v_seq1;
    IF p_receipt IS NULL THEN
        receipt_number := NULL;
    END IF;
END
$$;

-- As in 0013 (arguments, errors, what is written), by rk_exchange_append_pair.
CREATE OR REPLACE FUNCTION rk_exchange_record(p_kind text, p_provider bigint, p_home bigint,
                                              p_pairwise text, p_resource jsonb, p_times jsonb,
                                              p_amounts jsonb, p_agreement_id bigint,
                                              p_agreement_version integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_receipt text := 'rc_' || replace(gen_random_uuid()::text, '-', '');
    v_now text := rk_exchange_utc(now());
    v_provider_code text;
    v_provider_slug text;
    v_home_code text;
    v_home_slug text;
    v_start text;
    v_end text;
    v_pair record;
BEGIN
    IF p_kind IS NULL OR p_kind NOT IN ('booking_confirmed', 'booking_cancelled', 'hold_placed',
            'hold_cancelled', 'loan_checked_out', 'loan_renewed', 'loan_returned',
            'patron_linked') THEN
        RAISE EXCEPTION 'rk_exchange_record: kind: % is not a cross-city transaction kind', p_kind
            USING ERRCODE = '22023';
    END IF;
    SELECT p.code, p.slug, h.code, h.slug
      INTO v_provider_code, v_provider_slug, v_home_code, v_home_slug
      FROM rk_tenant p, rk_tenant h WHERE p.id = p_provider AND h.id = p_home;
    IF v_provider_code IS NULL OR p_provider = p_home THEN
        RAISE EXCEPTION 'rk_exchange_record: provider and home must be two different tenants'
            USING ERRCODE = '22023';
    END IF;
    IF p_pairwise IS NULL OR length(p_pairwise) NOT BETWEEN 1 AND 128 THEN
        RAISE EXCEPTION 'rk_exchange_record: pairwise: 1 to 128 characters'
            USING ERRCODE = '22023';
    END IF;
    IF jsonb_typeof(p_resource) IS DISTINCT FROM 'object'
       OR jsonb_typeof(p_resource -> 'type') IS DISTINCT FROM 'string'
       OR jsonb_typeof(p_resource -> 'id') IS DISTINCT FROM 'string'
       OR p_resource - '{type,id}'::text[] <> '{}'::jsonb THEN
        RAISE EXCEPTION 'rk_exchange_record: resource: must be {"type": text, "id": text}'
            USING ERRCODE = '22023';
    END IF;
    IF p_times IS NOT NULL THEN
        BEGIN
            IF jsonb_typeof(p_times) = 'object' AND p_times - '{start,end}'::text[] = '{}'::jsonb
               AND (p_times ->> 'start')::timestamptz < (p_times ->> 'end')::timestamptz THEN
                v_start := rk_exchange_utc((p_times ->> 'start')::timestamptz);
                v_end := rk_exchange_utc((p_times ->> 'end')::timestamptz);
            END IF;
        EXCEPTION WHEN others THEN
            v_start := NULL;
        END;
        IF v_start IS NULL THEN
            RAISE EXCEPTION 'rk_exchange_record: times: must be {"start", "end"}, RFC 3339, start before end'
                USING ERRCODE = '22023';
        END IF;
    END IF;
    -- (CASE in parentheses: PL/pgSQL's IF ends its condition at the first THEN outside them)
    IF p_amounts IS NOT NULL AND (CASE WHEN jsonb_typeof(p_amounts) <> 'object' THEN true
           WHEN p_amounts - 'fee' <> '{}'::jsonb THEN true
           WHEN NOT p_amounts ? 'fee' THEN false
           ELSE jsonb_typeof(p_amounts -> 'fee') <> 'number'
                OR (p_amounts -> 'fee')::text !~ '^-?[0-9]{1,15}$' END) THEN
        RAISE EXCEPTION 'rk_exchange_record: amounts: must be {"fee": whole yen}'
            USING ERRCODE = '22023';
    END IF;
    IF (p_agreement_id IS NULL) <> (p_agreement_version IS NULL) OR p_agreement_version < 1 THEN
        RAISE EXCEPTION 'rk_exchange_record: agreement: id and version (1, 2, …) together or neither'
            USING ERRCODE = '22023';
    END IF;
    PERFORM rk_exchange_check_anchoring();

    -- members in code point order: agreement, amounts, home, kind | previous_hash | provider,
    -- receipt_id, recorded_at, resource | sequence, tenant | time
    SELECT * INTO v_pair FROM rk_exchange_append_pair(
        p_provider, v_provider_code, p_home, v_home_code, p_kind, v_receipt,
        '{' || CASE WHEN p_agreement_id IS NULL THEN ''
                    ELSE '"agreement":{"id":"' || p_agreement_id || '","version":'
                         || p_agreement_version || '},' END
            || CASE WHEN p_amounts IS NULL THEN ''
                    WHEN p_amounts ? 'fee' THEN '"amounts":{"fee":' || (p_amounts -> 'fee')::text || '},'
                    ELSE '"amounts":{},' END
            || '"home":' || to_json(v_home_code)::text || ',"kind":' || to_json(p_kind)::text || ',',
        '"provider":' || to_json(v_provider_code)::text || ',"receipt_id":"' || v_receipt
            || '","recorded_at":"' || v_now || '","resource":{"id":' || (p_resource -> 'id')::text
            || ',"type":' || (p_resource -> 'type') || '}',
        CASE WHEN v_start IS NULL THEN ''
             ELSE ',"time":{"end":"' || v_end || '","start":"' || v_start || '"}' END);

    INSERT INTO rk_exchange_receipt (id, kind, provider_tenant_id, home_tenant_id, receipt_number,
                                     log_sequence, body)
    VALUES (v_receipt, p_kind, p_provider, p_home, v_pair.receipt_number, v_pair.first_sequence,
            jsonb_strip_nulls(jsonb_build_object(
                'kind', p_kind, 'receipt_id', v_receipt, 'resident_pairwise_id', p_pairwise,
                'home', jsonb_build_object('code', v_home_code, 'slug', v_home_slug),
                'provider', jsonb_build_object('code', v_provider_code, 'slug', v_provider_slug),
                'resource', p_resource,
                'time', CASE WHEN v_start IS NOT NULL
                             THEN jsonb_build_object('start', v_start, 'end', v_end) END,
                'amounts', p_amounts,
                'agreement', CASE WHEN p_agreement_id IS NOT NULL THEN jsonb_build_object(
                    'id', p_agreement_id::text, 'version', p_agreement_version) END,
                'log_sequence', v_pair.first_sequence, 'issued_at', v_now)));
    PERFORM pg_notify('rk_exchange_receipt', p_provider::text);
    RETURN v_receipt;
END
$$;

-- As in 0013 (arguments, errors, what is written), by rk_exchange_append_pair.
CREATE OR REPLACE FUNCTION rk_exchange_record_read(p_reader bigint, p_home bigint,
                                                   p_resource jsonb, p_purpose text,
                                                   p_actor text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_reader_code text;
    v_home_code text;
    v_pair record;
BEGIN
    SELECT r.code, h.code INTO v_reader_code, v_home_code
      FROM rk_tenant r, rk_tenant h WHERE r.id = p_reader AND h.id = p_home;
    IF v_reader_code IS NULL OR p_reader = p_home THEN
        RAISE EXCEPTION 'rk_exchange_record_read: reader and home must be two different tenants'
            USING ERRCODE = '22023';
    END IF;
    IF jsonb_typeof(p_resource) IS DISTINCT FROM 'object'
       OR jsonb_typeof(p_resource -> 'type') IS DISTINCT FROM 'string'
       OR jsonb_typeof(p_resource -> 'id') IS DISTINCT FROM 'string' THEN
        RAISE EXCEPTION 'rk_exchange_record_read: resource: must be {"type": text, "id": text}'
            USING ERRCODE = '22023';
    END IF;
    IF p_purpose IS NULL OR length(btrim(p_purpose)) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION 'rk_exchange_record_read: purpose: the purpose of use, 1 to 200 characters'
            USING ERRCODE = '22023';
    END IF;
    IF p_actor IS NULL OR length(p_actor) NOT BETWEEN 1 AND 128 THEN
        RAISE EXCEPTION 'rk_exchange_record_read: actor: who read, 1 to 128 characters'
            USING ERRCODE = '22023';
    END IF;
    -- members in code point order: actor, home, kind | previous_hash | provider, purpose,
    -- recorded_at, resource | sequence, tenant
    SELECT * INTO v_pair FROM rk_exchange_append_pair(
        p_reader, v_reader_code, p_home, v_home_code, 'personal_data_read', NULL,
        '{"actor":' || to_json(p_actor)::text || ',"home":' || to_json(v_home_code)::text
            || ',"kind":"personal_data_read",',
        '"provider":' || to_json(v_reader_code)::text || ',"purpose":' || to_json(p_purpose)::text
            || ',"recorded_at":"' || rk_exchange_utc(now()) || '","resource":{"id":'
            || (p_resource -> 'id')::text || ',"type":' || (p_resource -> 'type')::text || '}',
        '');
    RETURN v_pair.first_sequence;
END
$$;

-- No caller is left: entries are written by rk_exchange_append_pair.
DROP FUNCTION IF EXISTS rk_exchange_append(bigint, text, text, jsonb);
