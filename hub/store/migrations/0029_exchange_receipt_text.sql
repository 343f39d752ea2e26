-- 0029_exchange_receipt_text: a receipt's signed payload written by concatenation, as migration
-- 0024 writes log entries. The hub's signer asks rk_exchange_receipt_next() for every receipt
-- over the same two pool connections (store.pool_size) that carry the bookings, and
-- rk_canonical_json() of a payload (seven objects, three integers: ten PL/pgSQL calls) took
-- ~0.46 ms of PostgreSQL time per receipt, rk_exchange_receipt_payload() ~0.10 ms (2,000
-- stored bodies, load 14-21; tests/bench/exchange, hub/exchange/README.md). A body of the
-- shape rk_exchange_record() writes is now written member by member in sorted order; any
-- other body (none is written) still goes through rk_canonical_json(). The bytes are the same:
-- tests/integration/exchange_log_test.sh checks every signed payload against
-- rk_canonical_json() of its own content, adversarial strings included.

-- JCS's text of a JSON scalar: a string, true, false or null (jsonb writes them as JCS does:
-- escape_json), or an integer of at most 2^53 - 1 in magnitude; NULL for anything else (an
-- object, an array, a real, a larger integer, nothing), so that a concatenation holding it is
-- NULL and the caller falls back to rk_canonical_json(), which raises for what it refuses.
CREATE FUNCTION rk_exchange_json_scalar(p jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE jsonb_typeof(p)
           WHEN 'object' THEN NULL
           WHEN 'array' THEN NULL
           WHEN 'number' THEN CASE WHEN p::text ~ '^(0|-?[1-9][0-9]{0,15})$'
                                        AND abs(p::text::numeric) <= 9007199254740991
                                   THEN p::text END
           ELSE p::text END
$$;

-- The payload to sign (the body with iss and previous_receipt_hash) when the body has the shape
-- rk_exchange_record() writes, else NULL. Members in code point order: agreement, amounts, home,
-- iss, issued_at, kind, log_sequence, previous_receipt_hash, provider, receipt_id,
-- resident_pairwise_id, resource, time; the objects' members likewise.
CREATE FUNCTION rk_exchange_receipt_payload(p_body jsonb, p_issuer text, p_previous_hash text)
RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    v_agreement jsonb := p_body -> 'agreement';
    v_amounts jsonb := p_body -> 'amounts';
    v_home jsonb := p_body -> 'home';
    v_provider jsonb := p_body -> 'provider';
    v_resource jsonb := p_body -> 'resource';
    v_time jsonb := p_body -> 'time';
BEGIN
    -- each object exactly its members (a jsonb built of them equals it), nothing else in the body
    IF p_body - '{agreement,amounts,home,issued_at,kind,log_sequence,provider,receipt_id,resident_pairwise_id,resource,time}'::text[] <> '{}'::jsonb
       OR v_agreement <> jsonb_build_object('id', v_agreement -> 'id', 'version', v_agreement -> 'version')
       OR (v_amounts <> '{}'::jsonb AND v_amounts <> jsonb_build_object('fee', v_amounts -> 'fee'))
       OR v_home IS DISTINCT FROM jsonb_build_object('code', v_home -> 'code', 'slug', v_home -> 'slug')
       OR v_provider IS DISTINCT FROM jsonb_build_object('code', v_provider -> 'code',
                                                         'slug', v_provider -> 'slug')
       OR v_resource IS DISTINCT FROM jsonb_build_object('id', v_resource -> 'id',
                                                         'type', v_resource -> 'type')
       OR v_time <> jsonb_build_object('end', v_time -> 'end', 'start', v_time -> 'start') THEN
        RETURN NULL;
    END IF;
    -- NULL if any scalar is not one JCS writes as jsonb does (rk_exchange_json_scalar)
    RETURN '{' || CASE WHEN v_agreement IS NULL THEN ''
                       ELSE '"agreement":{"id":' || rk_exchange_json_scalar(v_agreement -> 'id')
                            || ',"version":' || rk_exchange_json_scalar(v_agreement -> 'version')
                            || '},' END
        || CASE WHEN v_amounts IS NULL THEN ''
                WHEN v_amounts = '{}'::jsonb THEN '"amounts":{},'
                ELSE '"amounts":{"fee":' || rk_exchange_json_scalar(v_amounts -> 'fee') || '},' END
        || '"home":{"code":' || rk_exchange_json_scalar(v_home -> 'code')
        || ',"slug":' || rk_exchange_json_scalar(v_home -> 'slug')
        || '},"iss":' || to_json(p_issuer)::text
        || ',"issued_at":' || rk_exchange_json_scalar(p_body -> 'issued_at')
        || ',"kind":' || rk_exchange_json_scalar(p_body -> 'kind')
        || ',"log_sequence":' || rk_exchange_json_scalar(p_body -> 'log_sequence')
        || ',"previous_receipt_hash":' || to_json(p_previous_hash)::text
        || ',"provider":{"code":' || rk_exchange_json_scalar(v_provider -> 'code')
        || ',"slug":' || rk_exchange_json_scalar(v_provider -> 'slug')
        || '},"receipt_id":' || rk_exchange_json_scalar(p_body -> 'receipt_id')
        || ',"resident_pairwise_id":' || rk_exchange_json_scalar(p_body -> 'resident_pairwise_id')
        || ',"resource":{"id":' || rk_exchange_json_scalar(v_resource -> 'id')
        || ',"type":' || rk_exchange_json_scalar(v_resource -> 'type') || '}'
        || CASE WHEN v_time IS NULL THEN ''
                ELSE ',"time":{"end":' || rk_exchange_json_scalar(v_time -> 'end')
                     || ',"start":' || rk_exchange_json_scalar(v_time -> 'start') || '}' END
        || '}';
END
$$;

-- As in 0013, the payload by rk_exchange_receipt_payload() when the body has its shape (the
-- receipt picked first, so that only its payload is computed).
CREATE OR REPLACE FUNCTION rk_exchange_receipt_next(p_provider bigint, p_issuer text)
RETURNS TABLE (receipt_id text, payload_json text) LANGUAGE sql STABLE AS $$
    SELECT r.id, COALESCE(rk_exchange_receipt_payload(r.body, p_issuer, h.previous_hash),
                          rk_canonical_json(r.body || jsonb_build_object(
                              'iss', p_issuer, 'previous_receipt_hash', h.previous_hash)))
      FROM (SELECT id, body, receipt_number FROM rk_exchange_receipt
             WHERE provider_tenant_id = p_provider AND jws IS NULL
             ORDER BY receipt_number LIMIT 1) r,
           LATERAL (SELECT COALESCE((SELECT rk_exchange_sha256(p.jws) FROM rk_exchange_receipt p
                                      WHERE p.provider_tenant_id = p_provider
                                        AND p.receipt_number = r.receipt_number - 1), '')
                           AS previous_hash) h
$$;
