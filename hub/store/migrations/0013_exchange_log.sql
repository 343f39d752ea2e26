-- 0013_exchange_log: the inter-city exchange log, signed receipts and RFC 3161 checkpoints
-- (hub/exchange, README there).
--
-- One hash chain per tenant: each entry's canonical JSON holds the SHA-256 of the previous
-- entry of the same tenant, so a tenant's auditor verifies the chain of their own city alone,
-- and a cross-city transaction is appended to both parties' chains (exchange.proto LogEntry).
-- rk_exchange_record() is what brokers call, in the transaction of the change it records: it
-- appends to both chains under their rows' locks (taken in tenant id order: no deadlock) and
-- creates the receipt row, to be signed by the hub right after commit (NOTIFY
-- rk_exchange_receipt) or later (rows with jws NULL are pending and survive restarts).
--
-- The log and the checkpoints refuse UPDATE, DELETE and TRUNCATE by trigger; a receipt row
-- accepts exactly one UPDATE, its signing. Whoever owns the tables can still drop a trigger:
-- that is what the hash chain and the TSA's timestamps reveal.

-- RFC 8785 (JCS) for the JSON we hash and sign: no whitespace, keys sorted by code point, strings
-- escaped as JSON requires (control characters as lower-case \u00xx, nothing else escaped),
-- integers only (at most 2^53 - 1 in magnitude, as JCS's IEEE doubles hold exactly).
CREATE FUNCTION rk_canonical_json(p jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    v_out text;
BEGIN
    CASE jsonb_typeof(p)
    WHEN 'object' THEN
        SELECT '{' || COALESCE(string_agg(to_json(key)::text || ':' || rk_canonical_json(value),
                                          ',' ORDER BY key COLLATE "C"), '') || '}'
          INTO v_out FROM jsonb_each(p);
        RETURN v_out;
    WHEN 'array' THEN
        SELECT '[' || COALESCE(string_agg(rk_canonical_json(value), ',' ORDER BY ord), '') || ']'
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

CREATE FUNCTION rk_exchange_sha256(p text) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT encode(sha256(convert_to(p, 'UTF8')), 'hex')
$$;

-- The head of each tenant's chain; its row lock serialises appends to that chain.
CREATE TABLE rk_exchange_chain (
    tenant_id         bigint PRIMARY KEY REFERENCES rk_tenant (id),
    head_sequence     bigint NOT NULL DEFAULT 0,
    head_hash         text NOT NULL DEFAULT repeat('0', 64),
    receipts          bigint NOT NULL DEFAULT 0,  -- receipts this tenant has issued (as provider)
    anchored_sequence bigint NOT NULL DEFAULT 0,  -- newest entry a checkpoint covers
    unanchored_since  timestamptz                 -- recorded_at of the oldest entry after it
);

CREATE TABLE rk_exchange_log (
    tenant_id      bigint NOT NULL REFERENCES rk_tenant (id),
    sequence       bigint NOT NULL CHECK (sequence > 0),
    kind           text NOT NULL,
    receipt_id     text,
    recorded_at    timestamptz NOT NULL,
    entry_hash     text NOT NULL,                 -- hex SHA-256 of canonical_json
    canonical_json text NOT NULL,                 -- what is hashed; the entry's whole content
    PRIMARY KEY (tenant_id, sequence)
);
CREATE INDEX rk_exchange_log_time ON rk_exchange_log (tenant_id, recorded_at);

-- A receipt: fixed when recorded (body), signed after commit (payload_json, jws). receipt_number
-- orders a provider's receipts: each signed payload holds the SHA-256 of the provider's previous
-- receipt JWS, so receipts are signed in that order.
CREATE TABLE rk_exchange_receipt (
    id                 text PRIMARY KEY CHECK (id ~ '^rc_[0-9a-f]{32}$'),
    kind               text NOT NULL,
    provider_tenant_id bigint NOT NULL REFERENCES rk_tenant (id),
    home_tenant_id     bigint NOT NULL REFERENCES rk_tenant (id),
    receipt_number     bigint NOT NULL,
    log_sequence       bigint NOT NULL,           -- the provider's log entry
    body               jsonb NOT NULL,            -- the payload without issuer and previous hash
    payload_json       text,                      -- the signed canonical JSON
    jws                text,                      -- compact JWS (ES256) over payload_json
    kid                text,
    signed_at          timestamptz,
    UNIQUE (provider_tenant_id, receipt_number),
    CHECK ((jws IS NULL) = (payload_json IS NULL))
);
CREATE INDEX rk_exchange_receipt_pending ON rk_exchange_receipt (provider_tenant_id, receipt_number)
    WHERE jws IS NULL;

-- A TSA's RFC 3161 timestamp of a chain head (the token's message imprint is entry_hash).
CREATE TABLE rk_exchange_checkpoint (
    tenant_id   bigint NOT NULL REFERENCES rk_tenant (id),
    sequence    bigint NOT NULL,
    entry_hash  text NOT NULL,
    tsa_token   bytea NOT NULL,                   -- TimeStampToken, DER
    tsa_name    text NOT NULL,
    anchored_at timestamptz NOT NULL,             -- the token's genTime
    PRIMARY KEY (tenant_id, sequence)
);

-- How long an entry may wait for a checkpoint before rk_exchange_record() refuses: written by
-- the hub at start from exchange.anchor_max_gap_ms; NULL = anchoring is off.
CREATE TABLE rk_exchange_anchor_policy (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    max_gap  interval
);
INSERT INTO rk_exchange_anchor_policy DEFAULT VALUES;

CREATE FUNCTION rk_exchange_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = '42501';
END
$$;

CREATE TRIGGER rk_exchange_log_append_only BEFORE UPDATE OR DELETE ON rk_exchange_log
    FOR EACH ROW EXECUTE FUNCTION rk_exchange_refuse_change();
CREATE TRIGGER rk_exchange_log_no_truncate BEFORE TRUNCATE ON rk_exchange_log
    FOR EACH STATEMENT EXECUTE FUNCTION rk_exchange_refuse_change();
CREATE TRIGGER rk_exchange_checkpoint_append_only BEFORE UPDATE OR DELETE ON rk_exchange_checkpoint
    FOR EACH ROW EXECUTE FUNCTION rk_exchange_refuse_change();
CREATE TRIGGER rk_exchange_checkpoint_no_truncate BEFORE TRUNCATE ON rk_exchange_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION rk_exchange_refuse_change();
CREATE TRIGGER rk_exchange_receipt_no_delete BEFORE DELETE ON rk_exchange_receipt
    FOR EACH ROW EXECUTE FUNCTION rk_exchange_refuse_change();
CREATE TRIGGER rk_exchange_receipt_no_truncate BEFORE TRUNCATE ON rk_exchange_receipt
    FOR EACH STATEMENT EXECUTE FUNCTION rk_exchange_refuse_change();

-- A receipt is signed once: only payload_json, jws, kid and signed_at may change, from NULL.
CREATE FUNCTION rk_exchange_receipt_sign_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.jws IS NOT NULL OR
       (NEW.id, NEW.kind, NEW.provider_tenant_id, NEW.home_tenant_id, NEW.receipt_number,
        NEW.log_sequence, NEW.body)
       IS DISTINCT FROM
       (OLD.id, OLD.kind, OLD.provider_tenant_id, OLD.home_tenant_id, OLD.receipt_number,
        OLD.log_sequence, OLD.body) THEN
        RAISE EXCEPTION 'rk_exchange_receipt: a receipt is signed once and never changed'
            USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER rk_exchange_receipt_signed_once BEFORE UPDATE ON rk_exchange_receipt
    FOR EACH ROW EXECUTE FUNCTION rk_exchange_receipt_sign_once();

-- RFC 3339 in UTC with microseconds when there are any ("2026-11-28T00:00:00Z").
CREATE FUNCTION rk_exchange_utc(p timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN date_trunc('second', p) = p
                THEN to_char(p AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                ELSE to_char(p AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END
$$;

-- Appends one entry to tenant's chain, whose row the caller has locked FOR UPDATE. fields: the
-- entry's content without sequence, tenant, previous_hash and recorded_at. Returns the sequence.
CREATE FUNCTION rk_exchange_append(p_tenant bigint, p_kind text, p_receipt text, p_fields jsonb)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_chain rk_exchange_chain;
    v_code text;
    v_text text;
    v_hash text;
BEGIN
    SELECT * INTO STRICT v_chain FROM rk_exchange_chain WHERE tenant_id = p_tenant;
    SELECT code INTO STRICT v_code FROM rk_tenant WHERE id = p_tenant;
    v_text := rk_canonical_json(p_fields || jsonb_build_object(
        'sequence', v_chain.head_sequence + 1, 'tenant', v_code, 'kind', p_kind,
        'previous_hash', v_chain.head_hash, 'recorded_at', rk_exchange_utc(now())));
    v_hash := rk_exchange_sha256(v_text);
    INSERT INTO rk_exchange_log (tenant_id, sequence, kind, receipt_id, recorded_at, entry_hash,
                                 canonical_json)
    VALUES (p_tenant, v_chain.head_sequence + 1, p_kind, p_receipt, now(), v_hash, v_text);
    UPDATE rk_exchange_chain
       SET head_sequence = head_sequence + 1, head_hash = v_hash,
           unanchored_since = COALESCE(unanchored_since, now())
     WHERE tenant_id = p_tenant;
    RETURN v_chain.head_sequence + 1;
END
$$;

-- Fail closed: RAISE (SQLSTATE RKA01) when an entry has waited longer than the policy's gap.
CREATE FUNCTION rk_exchange_check_anchoring() RETURNS void LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_gap interval := (SELECT max_gap FROM rk_exchange_anchor_policy);
BEGIN
    IF v_gap IS NOT NULL AND EXISTS (SELECT 1 FROM rk_exchange_chain
                                      WHERE unanchored_since < now() - v_gap) THEN
        RAISE EXCEPTION 'exchange log anchoring overdue: no timestamp from the TSA for %; '
                        'cross-city changes are refused until it answers again', v_gap
            USING ERRCODE = 'RKA01';
    END IF;
END
$$;

-- What a broker calls, in the transaction of the change, for one cross-city transaction:
--   kind         booking_confirmed, booking_cancelled, hold_placed, hold_cancelled,
--                loan_checked_out, loan_renewed, loan_returned, patron_linked
--   provider     the tenant that provides the service (signs the receipt); home: the resident's
--   pairwise     the resident's pairwise subject towards the provider
--   resource     {"type": "booking", "id": "bk_…"}
--   times        {"start": RFC 3339, "end": RFC 3339} or NULL (library transactions)
--   amounts      {"fee": yen} or NULL; integers only
--   agreement    the agreement's id and version the transaction was made under, or NULLs
-- Returns the receipt id ("rc_" and 32 hex digits). Raises 22023 naming the bad argument, or
-- RKA01 when anchoring is overdue (nothing is written: the caller's transaction fails).
CREATE FUNCTION rk_exchange_record(p_kind text, p_provider bigint, p_home bigint,
                                   p_pairwise text, p_resource jsonb, p_times jsonb,
                                   p_amounts jsonb, p_agreement_id bigint,
                                   p_agreement_version integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_receipt text := 'rc_' || replace(gen_random_uuid()::text, '-', '');
    v_provider rk_tenant;
    v_home rk_tenant;
    v_time jsonb;
    v_parties jsonb;
    v_seq bigint;
    v_number bigint;
BEGIN
    IF p_kind IS NULL OR p_kind NOT IN ('booking_confirmed', 'booking_cancelled', 'hold_placed',
            'hold_cancelled', 'loan_checked_out', 'loan_renewed', 'loan_returned',
            'patron_linked') THEN
        RAISE EXCEPTION 'rk_exchange_record: kind: % is not a cross-city transaction kind', p_kind
            USING ERRCODE = '22023';
    END IF;
    SELECT * INTO v_provider FROM rk_tenant WHERE id = p_provider;
    SELECT * INTO v_home FROM rk_tenant WHERE id = p_home;
    IF v_provider.id IS NULL OR v_home.id IS NULL OR p_provider = p_home THEN
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
       OR (SELECT count(*) FROM jsonb_object_keys(p_resource)) <> 2 THEN
        RAISE EXCEPTION 'rk_exchange_record: resource: must be {"type": text, "id": text}'
            USING ERRCODE = '22023';
    END IF;
    IF p_times IS NOT NULL THEN
        BEGIN
            IF (p_times ->> 'start')::timestamptz < (p_times ->> 'end')::timestamptz
               AND (SELECT count(*) FROM jsonb_object_keys(p_times)) = 2 THEN
                v_time := jsonb_build_object(
                    'start', rk_exchange_utc((p_times ->> 'start')::timestamptz),
                    'end', rk_exchange_utc((p_times ->> 'end')::timestamptz));
            END IF;
        EXCEPTION WHEN others THEN
            v_time := NULL;
        END;
        IF v_time IS NULL THEN
            RAISE EXCEPTION 'rk_exchange_record: times: must be {"start", "end"}, RFC 3339, start before end'
                USING ERRCODE = '22023';
        END IF;
    END IF;
    IF p_amounts IS NOT NULL AND (jsonb_typeof(p_amounts) <> 'object' OR EXISTS (
           SELECT 1 FROM jsonb_each(p_amounts) WHERE key <> 'fee' OR jsonb_typeof(value) <> 'number'
              OR value::text !~ '^-?[0-9]{1,15}$')) THEN
        RAISE EXCEPTION 'rk_exchange_record: amounts: must be {"fee": whole yen}'
            USING ERRCODE = '22023';
    END IF;
    IF (p_agreement_id IS NULL) <> (p_agreement_version IS NULL) OR p_agreement_version < 1 THEN
        RAISE EXCEPTION 'rk_exchange_record: agreement: id and version (1, 2, …) together or neither'
            USING ERRCODE = '22023';
    END IF;
    PERFORM rk_exchange_check_anchoring();

    INSERT INTO rk_exchange_chain (tenant_id) VALUES (LEAST(p_provider, p_home))
        ON CONFLICT DO NOTHING;
    INSERT INTO rk_exchange_chain (tenant_id) VALUES (GREATEST(p_provider, p_home))
        ON CONFLICT DO NOTHING;
    PERFORM 1 FROM rk_exchange_chain WHERE tenant_id IN (p_provider, p_home)
      ORDER BY tenant_id FOR UPDATE;

    v_parties := jsonb_strip_nulls(jsonb_build_object(
        'home', v_home.code, 'provider', v_provider.code, 'receipt_id', v_receipt,
        'resource', p_resource, 'time', v_time, 'amounts', p_amounts,
        'agreement', CASE WHEN p_agreement_id IS NOT NULL THEN jsonb_build_object(
            'id', p_agreement_id::text, 'version', p_agreement_version) END));
    v_seq := rk_exchange_append(p_provider, p_kind, v_receipt, v_parties);
    PERFORM rk_exchange_append(p_home, p_kind, v_receipt, v_parties);

    UPDATE rk_exchange_chain SET receipts = receipts + 1 WHERE tenant_id = p_provider
        RETURNING receipts INTO v_number;
    INSERT INTO rk_exchange_receipt (id, kind, provider_tenant_id, home_tenant_id, receipt_number,
                                     log_sequence, body)
    VALUES (v_receipt, p_kind, p_provider, p_home, v_number, v_seq, jsonb_strip_nulls(
        v_parties || jsonb_build_object(
            'kind', p_kind, 'resident_pairwise_id', p_pairwise, 'log_sequence', v_seq,
            'issued_at', rk_exchange_utc(now()),
            'home', jsonb_build_object('code', v_home.code, 'slug', v_home.slug),
            'provider', jsonb_build_object('code', v_provider.code, 'slug', v_provider.slug))));
    PERFORM pg_notify('rk_exchange_receipt', p_provider::text);
    RETURN v_receipt;
END
$$;

-- The signer's next job for one provider: its oldest unsigned receipt, with the canonical JSON
-- payload to sign (issuer given by the hub: {public_url}/t/{slug}; previous_receipt_hash from the
-- previous receipt's stored JWS). No row when nothing is pending.
CREATE FUNCTION rk_exchange_receipt_next(p_provider bigint, p_issuer text)
RETURNS TABLE (receipt_id text, payload_json text) LANGUAGE sql STABLE AS $$
    SELECT r.id, rk_canonical_json(r.body || jsonb_build_object(
               'iss', p_issuer,
               'previous_receipt_hash', COALESCE((
                   SELECT rk_exchange_sha256(p.jws) FROM rk_exchange_receipt p
                    WHERE p.provider_tenant_id = r.provider_tenant_id
                      AND p.receipt_number = r.receipt_number - 1), '')))
      FROM rk_exchange_receipt r
     WHERE r.provider_tenant_id = p_provider AND r.jws IS NULL
     ORDER BY r.receipt_number LIMIT 1
$$;

-- Stores a signature; a receipt another hub signed first keeps that one. Returns whether stored.
CREATE FUNCTION rk_exchange_receipt_store(p_id text, p_payload text, p_jws text, p_kid text)
RETURNS boolean LANGUAGE sql AS $$
    WITH signed AS (
        UPDATE rk_exchange_receipt SET payload_json = p_payload, jws = p_jws, kid = p_kid,
                                       signed_at = now()
         WHERE id = p_id AND jws IS NULL RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM signed)
$$;

-- Chains whose head no checkpoint covers yet: what the anchoring job timestamps.
CREATE FUNCTION rk_exchange_anchor_due()
RETURNS TABLE (tenant_id bigint, head_sequence bigint, head_hash text) LANGUAGE sql STABLE AS $$
    SELECT tenant_id, head_sequence, head_hash FROM rk_exchange_chain
     WHERE head_sequence > anchored_sequence ORDER BY tenant_id
$$;

-- Stores a verified checkpoint of entry (tenant, sequence) whose hash must be p_hash; moves the
-- chain's anchored mark. Returns false when the entry does not have that hash (nothing stored).
CREATE FUNCTION rk_exchange_anchor_store(p_tenant bigint, p_sequence bigint, p_hash text,
                                         p_token bytea, p_tsa_name text, p_anchored_at timestamptz)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM rk_exchange_chain WHERE tenant_id = p_tenant FOR UPDATE;
    IF NOT EXISTS (SELECT 1 FROM rk_exchange_log WHERE tenant_id = p_tenant
                      AND sequence = p_sequence AND entry_hash = p_hash) THEN
        RETURN false;
    END IF;
    INSERT INTO rk_exchange_checkpoint (tenant_id, sequence, entry_hash, tsa_token, tsa_name,
                                        anchored_at)
    VALUES (p_tenant, p_sequence, p_hash, p_token, p_tsa_name, p_anchored_at)
    ON CONFLICT DO NOTHING;
    UPDATE rk_exchange_chain c
       SET anchored_sequence = GREATEST(c.anchored_sequence, p_sequence),
           unanchored_since = (SELECT min(l.recorded_at) FROM rk_exchange_log l
                                WHERE l.tenant_id = p_tenant
                                  AND l.sequence > GREATEST(c.anchored_sequence, p_sequence))
     WHERE c.tenant_id = p_tenant;
    RETURN true;
END
$$;

-- A cross-city read of a resident's personal data (patron or booking details), with its purpose
-- (個人情報保護法: purpose-bound use), appended to the reading city's chain and the resident's
-- home city's chain in the reading transaction. Not refused while anchoring is overdue: reads go
-- on. resource as for rk_exchange_record(); actor: who read (staff account or partner id).
-- Returns the reader's entry sequence. Raises 22023 naming the bad argument.
CREATE FUNCTION rk_exchange_record_read(p_reader bigint, p_home bigint, p_resource jsonb,
                                        p_purpose text, p_actor text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_reader rk_tenant;
    v_home rk_tenant;
    v_fields jsonb;
    v_seq bigint;
BEGIN
    SELECT * INTO v_reader FROM rk_tenant WHERE id = p_reader;
    SELECT * INTO v_home FROM rk_tenant WHERE id = p_home;
    IF v_reader.id IS NULL OR v_home.id IS NULL OR p_reader = p_home THEN
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
    INSERT INTO rk_exchange_chain (tenant_id) VALUES (LEAST(p_reader, p_home))
        ON CONFLICT DO NOTHING;
    INSERT INTO rk_exchange_chain (tenant_id) VALUES (GREATEST(p_reader, p_home))
        ON CONFLICT DO NOTHING;
    PERFORM 1 FROM rk_exchange_chain WHERE tenant_id IN (p_reader, p_home)
      ORDER BY tenant_id FOR UPDATE;
    v_fields := jsonb_build_object('home', v_home.code, 'provider', v_reader.code,
                                   'resource', jsonb_build_object('type', p_resource ->> 'type',
                                                                  'id', p_resource ->> 'id'),
                                   'purpose', p_purpose, 'actor', p_actor);
    v_seq := rk_exchange_append(p_reader, 'personal_data_read', NULL, v_fields);
    PERFORM rk_exchange_append(p_home, 'personal_data_read', NULL, v_fields);
    RETURN v_seq;
END
$$;
