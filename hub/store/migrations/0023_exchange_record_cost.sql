-- 0023_exchange_record_cost: the same exchange log entries for less PostgreSQL time per
-- rk_exchange_record() (tests/bench/exchange: a cross-city booking costs more than a same-city one
-- mostly in these two helpers of migration 0013, which every entry calls several times):
--   - rk_exchange_utc was LANGUAGE sql IMMUTABLE around to_char (only STABLE), so PostgreSQL never
--     inlined it and planned its query again on every call (5 calls per record); in PL/pgSQL the
--     expression's plan is cached for the session;
--   - rk_canonical_json called itself through SPI for every value, strings included (17 calls per
--     entry); strings, booleans and null are now written in place (their jsonb text is already
--     what JCS writes), numbers still go through the integer check.
-- The bytes are unchanged: every existing entry hash still verifies.

CREATE OR REPLACE FUNCTION rk_exchange_utc(p timestamptz) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF date_trunc('second', p) = p THEN
        RETURN to_char(p AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
    END IF;
    RETURN to_char(p AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
END
$$;

CREATE OR REPLACE FUNCTION rk_canonical_json(p jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    v_out text;
BEGIN
    CASE jsonb_typeof(p)
    WHEN 'object' THEN
        SELECT '{' || COALESCE(string_agg(to_json(key)::text || ':' ||
                                          CASE WHEN jsonb_typeof(value) IN ('object', 'array', 'number')
                                               THEN rk_canonical_json(value) ELSE value::text END,
                                          ',' ORDER BY key COLLATE "C"), '') || '}'
          INTO v_out FROM jsonb_each(p);
        RETURN v_out;
    WHEN 'array' THEN
        SELECT '[' || COALESCE(string_agg(CASE WHEN jsonb_typeof(value) IN ('object', 'array', 'number')
                                               THEN rk_canonical_json(value) ELSE value::text END,
                                          ',' ORDER BY ord), '') || ']'
          INTO v_out FROM jsonb_array_elements(p) WITH ORDINALITY AS e(value, ord);
        RETURN v_out;
    WHEN 'number' THEN
        IF p::text !~ '^(0|-?[1-9][0-9]{0,15})$' OR abs(p::text::numeric) > 9007199254740991 THEN
            RAISE EXCEPTION 'canonical JSON: % is not an integer of at most 2^53 - 1', p
                USING ERRCODE = '22023';
        END IF;
        RETURN p::text;
    ELSE
        RETURN p::text; -- string (escaped as JCS does), true, false, null
    END CASE;
END
$$;
