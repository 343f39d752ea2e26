-- 0032_exchange_store_plans: two exchange helpers that PostgreSQL planned again on every call
-- (as 0023 found for rk_exchange_utc and 0030 for rk_booking_utc), with the same results:
--   - rk_exchange_receipt_store (the signer's statement after every cross-city receipt) was a
--     LANGUAGE sql function around an UPDATE in a CTE, which PostgreSQL never inlines: ~0.45 ms
--     of planning per call (pgbench on the development PostgreSQL, load ~15). In PL/pgSQL the
--     UPDATE's plan is kept for the session;
--   - rk_exchange_sha256 was IMMUTABLE around convert_to, which is only STABLE, so it was not
--     inlined either (three calls per cross-city booking: two entries and the receipt's previous
--     hash). Declared STABLE, it is inlined where it is called.

CREATE OR REPLACE FUNCTION rk_exchange_receipt_store(p_id text, p_payload text, p_jws text,
                                                     p_kid text)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    UPDATE rk_exchange_receipt SET payload_json = p_payload, jws = p_jws, kid = p_kid,
                                   signed_at = now()
     WHERE id = p_id AND jws IS NULL;
    RETURN FOUND;
END
$$;

CREATE OR REPLACE FUNCTION rk_exchange_sha256(p text) RETURNS text
LANGUAGE sql STABLE STRICT AS $$
    SELECT encode(sha256(convert_to(p, 'UTF8')), 'hex')
$$;
