-- sru_circulation.sql — the sru adapter's circulation: what an SRU catalogue cannot hold
-- (patrons, holds, loans) in the owner's own PostgreSQL, as an ILS keeps it.
--
-- Applied by renkei-adapter-sru at start-up under an advisory lock (every statement is
-- idempotent, so adapters of several cities may share one database; every row carries its
-- library's municipality code and every function filters on it). Each change is one function
-- call: it takes the library's circulation lock, checks the idempotency key, the rules, makes
-- the change and records its answer, in one transaction. Answers are jsonb:
--   {"code": gRPC status, "reason": LibraryError/ErrorReason name, "message": text,
--    "hold": {…} | "loan": {…} | "holds": […] | "loans": […] | "patron": {…}}
-- PINs are compared with crypt() and stored only as bcrypt hashes; card numbers only as
-- SHA-256 digests and their last four digits.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE SCHEMA IF NOT EXISTS sru;

CREATE TABLE IF NOT EXISTS sru.patron (
    library text NOT NULL,
    patron_id text NOT NULL,
    card_hash bytea,            -- digest(library || ':' || card, 'sha256')
    card_last4 text NOT NULL DEFAULT '',
    pin_hash text,              -- crypt(pin, gen_salt('bf'))
    pairwise_id text,           -- patrons issued for certificate logins
    expires_on date NOT NULL,
    PRIMARY KEY (library, patron_id),
    UNIQUE (library, card_hash),
    UNIQUE (library, pairwise_id)
);

CREATE SEQUENCE IF NOT EXISTS sru.reference_seq;

CREATE TABLE IF NOT EXISTS sru.hold (
    library text NOT NULL,
    reference text NOT NULL,
    hold_key text NOT NULL,
    patron_id text NOT NULL,
    record_id text NOT NULL,
    work jsonb NOT NULL,        -- bibliographic data for display, as the catalogue gave it
    state text NOT NULL CHECK (state IN ('WAITING', 'READY', 'CANCELLED', 'FULFILLED', 'EXPIRED')),
    item_id text,               -- the copy set aside while READY
    pickup_municipality text NOT NULL,
    pickup_branch text NOT NULL,
    placed_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,     -- pickup deadline while READY
    seq bigint NOT NULL DEFAULT nextval('sru.reference_seq'),  -- queue order
    PRIMARY KEY (library, reference)
);
CREATE INDEX IF NOT EXISTS hold_record ON sru.hold (library, record_id) WHERE state IN ('WAITING', 'READY');
CREATE INDEX IF NOT EXISTS hold_patron ON sru.hold (library, patron_id);

CREATE TABLE IF NOT EXISTS sru.loan (
    library text NOT NULL,
    reference text NOT NULL,
    loan_key text NOT NULL,
    patron_id text NOT NULL,
    record_id text NOT NULL,
    work jsonb NOT NULL,
    item_id text NOT NULL,
    branch_id text NOT NULL,
    borrowed_on date NOT NULL,
    due_date date NOT NULL,
    renewals int NOT NULL DEFAULT 0,
    max_renewals int NOT NULL,
    returned_at timestamptz,
    PRIMARY KEY (library, reference)
);
CREATE UNIQUE INDEX IF NOT EXISTS loan_item_out ON sru.loan (library, item_id) WHERE returned_at IS NULL;
CREATE INDEX IF NOT EXISTS loan_patron ON sru.loan (library, patron_id);

CREATE TABLE IF NOT EXISTS sru.idempotency (
    library text NOT NULL,
    method text NOT NULL,
    key text NOT NULL,
    request_hash text NOT NULL, -- SHA-256 of the request as sent (never for VerifyPatron: it holds a PIN)
    answer jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (library, method, key)
);

-- Library days are Japan days.
CREATE OR REPLACE FUNCTION sru.today() RETURNS date LANGUAGE sql STABLE
AS $$ SELECT (now() AT TIME ZONE 'Asia/Tokyo')::date $$;

CREATE OR REPLACE FUNCTION sru.refusal(code int, reason text, message text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$ SELECT jsonb_build_object('code', code, 'reason', reason, 'message', message) $$;

CREATE OR REPLACE FUNCTION sru.utc(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;

CREATE OR REPLACE FUNCTION sru.hold_json(h sru.hold) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'reference', h.reference, 'key', h.hold_key, 'record_id', h.record_id, 'work', h.work,
        'state', h.state,
        'queue_position', CASE WHEN h.state = 'WAITING' THEN
            (SELECT count(*) FROM sru.hold o WHERE o.library = h.library AND o.record_id = h.record_id
               AND o.state = 'WAITING' AND o.seq <= h.seq) ELSE 0 END,
        'pickup_municipality', h.pickup_municipality, 'pickup_branch', h.pickup_branch,
        'item_id', coalesce(h.item_id, ''),
        'expires_at', CASE WHEN h.state = 'READY' THEN sru.utc(h.expires_at) ELSE '' END,
        'placed_at', sru.utc(h.placed_at))
$$;

CREATE OR REPLACE FUNCTION sru.loan_json(l sru.loan) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'reference', l.reference, 'key', l.loan_key, 'record_id', l.record_id, 'work', l.work,
        'item_id', l.item_id, 'branch_id', l.branch_id,
        'state', CASE WHEN l.returned_at IS NOT NULL THEN 'RETURNED'
                      WHEN l.due_date < sru.today() THEN 'OVERDUE' ELSE 'ACTIVE' END,
        'borrowed_on', l.borrowed_on::text, 'due_date', l.due_date::text,
        'renewals', l.renewals, 'max_renewals', l.max_renewals,
        'returned_at', coalesce(sru.utc(l.returned_at), ''))
$$;

-- Serializes the changes of one library; returns the stored answer of (method, key) when there
-- is one (the conflict refusal when the request differs), else NULL.
CREATE OR REPLACE FUNCTION sru.begin_change(p_library text, p_method text, p_key text, p_hash text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    stored sru.idempotency;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('renkei-sru-circulation:' || p_library));
    SELECT * INTO stored FROM sru.idempotency
     WHERE library = p_library AND method = p_method AND key = p_key;
    IF NOT FOUND THEN
        RETURN NULL;
    ELSIF stored.request_hash <> p_hash THEN
        RETURN sru.refusal(6, 'ERROR_REASON_IDEMPOTENCY_KEY_REUSED',
                           'idempotency_key: used before with a different request');
    END IF;
    RETURN stored.answer;
END $$;

CREATE OR REPLACE FUNCTION sru.end_change(p_library text, p_method text, p_key text, p_hash text,
                                          p_answer jsonb)
RETURNS jsonb LANGUAGE sql AS $$
    INSERT INTO sru.idempotency (library, method, key, request_hash, answer)
    VALUES (p_library, p_method, p_key, p_hash, p_answer);
    SELECT p_answer;
$$;

-- The patron, when it exists and its card is valid; else the refusal.
CREATE OR REPLACE FUNCTION sru.patron_refusal(p_library text, p_patron text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN p.patron_id IS NULL THEN sru.refusal(9, 'LIBRARY_ERROR_PATRON_NOT_LINKED', 'unknown patron: verify it first')
        WHEN p.expires_on < sru.today() THEN sru.refusal(7, 'LIBRARY_ERROR_PATRON_REJECTED', 'the library card has expired')
    END
    FROM (SELECT NULL) AS one LEFT JOIN sru.patron p ON p.library = p_library AND p.patron_id = p_patron
$$;

CREATE OR REPLACE FUNCTION sru.new_reference(prefix text) RETURNS text LANGUAGE sql AS $$
    SELECT prefix || to_char(nextval('sru.reference_seq'), 'FM0000000000')
$$;

-- VerifyPatron with card and PIN: read only (nothing to make idempotent, nothing stored).
CREATE OR REPLACE FUNCTION sru.verify_card(p_library text, p_card text, p_pin text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    p sru.patron;
BEGIN
    SELECT * INTO p FROM sru.patron
     WHERE library = p_library AND card_hash = digest(p_library || ':' || p_card, 'sha256');
    IF NOT FOUND OR p.pin_hash IS NULL THEN
        -- As slow as a wrong PIN, so the time does not tell whether the card exists.
        PERFORM crypt(p_pin, gen_salt('bf', 6));
        RETURN sru.refusal(7, 'LIBRARY_ERROR_PATRON_REJECTED', 'the card number or PIN is wrong');
    ELSIF crypt(p_pin, p.pin_hash) <> p.pin_hash THEN
        RETURN sru.refusal(7, 'LIBRARY_ERROR_PATRON_REJECTED', 'the card number or PIN is wrong');
    ELSIF p.expires_on < sru.today() THEN
        RETURN sru.refusal(7, 'LIBRARY_ERROR_PATRON_REJECTED', 'the library card has expired');
    END IF;
    RETURN jsonb_build_object('code', 0, 'patron', jsonb_build_object(
        'patron_id', p.patron_id, 'card_last4', p.card_last4, 'expires_on', p.expires_on::text));
END $$;

-- VerifyPatron after a certificate login: the patron of this pairwise id, issued on first use.
CREATE OR REPLACE FUNCTION sru.certificate_patron(p_library text, p_pairwise text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    p sru.patron;
BEGIN
    INSERT INTO sru.patron (library, patron_id, pairwise_id, expires_on)
    VALUES (p_library, 'P' || encode(gen_random_bytes(8), 'hex'), p_pairwise, sru.today() + 3 * 365)
    ON CONFLICT (library, pairwise_id) DO NOTHING;
    SELECT * INTO p FROM sru.patron WHERE library = p_library AND pairwise_id = p_pairwise;
    RETURN jsonb_build_object('code', 0, 'patron', jsonb_build_object(
        'patron_id', p.patron_id, 'card_last4', '', 'expires_on', p.expires_on::text));
END $$;

-- A demo patron from the configuration (start-up only): the card and PIN are hashed here.
CREATE OR REPLACE FUNCTION sru.ensure_card_patron(p_library text, p_card text, p_pin text,
                                                  p_expires date) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO sru.patron (library, patron_id, card_hash, card_last4, pin_hash, expires_on)
    VALUES (p_library, 'P' || encode(gen_random_bytes(8), 'hex'),
            digest(p_library || ':' || p_card, 'sha256'), right(p_card, 4),
            crypt(p_pin, gen_salt('bf', 6)), p_expires)
    ON CONFLICT (library, card_hash) DO UPDATE
        SET pin_hash = crypt(p_pin, gen_salt('bf', 6)), expires_on = p_expires
$$;

-- The copy a hold can have now: one the catalogue shows on the shelf (p_shelf) that is neither
-- lent nor set aside here; NULL when none.
CREATE OR REPLACE FUNCTION sru.free_copy(p_library text, p_shelf text[]) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT s.item FROM unnest(p_shelf) WITH ORDINALITY AS s(item, n)
     WHERE NOT EXISTS (SELECT 1 FROM sru.loan l WHERE l.library = p_library AND l.item_id = s.item AND l.returned_at IS NULL)
       AND NOT EXISTS (SELECT 1 FROM sru.hold h WHERE h.library = p_library AND h.item_id = s.item AND h.state = 'READY')
     ORDER BY s.n LIMIT 1
$$;

-- A copy came back to the shelf: the first waiting hold on its record gets it.
CREATE OR REPLACE FUNCTION sru.pass_copy(p_library text, p_record text, p_item text, p_days int)
RETURNS void LANGUAGE sql AS $$
    UPDATE sru.hold SET state = 'READY', item_id = p_item, expires_at = now() + make_interval(days => p_days)
     WHERE (library, reference) = (SELECT library, reference FROM sru.hold
                                    WHERE library = p_library AND record_id = p_record AND state = 'WAITING'
                                    ORDER BY seq LIMIT 1)
$$;

-- READY holds not collected by their pickup deadline expire; each copy passes to the next
-- waiting hold. Run by the adapter on a timer (circulation.expiry_interval_ms).
CREATE OR REPLACE FUNCTION sru.expire_holds(p_library text, p_pickup_days int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    h sru.hold;
    n int := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('renkei-sru-circulation:' || p_library));
    FOR h IN SELECT * FROM sru.hold WHERE library = p_library AND state = 'READY' AND expires_at < now()
             ORDER BY seq LOOP
        UPDATE sru.hold SET state = 'EXPIRED', item_id = NULL
         WHERE library = p_library AND reference = h.reference;
        PERFORM sru.pass_copy(p_library, h.record_id, h.item_id, p_pickup_days);
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;

-- PlaceHold. p_shelf: the record's copies the catalogue shows on the shelf; p_lendable: how
-- many copies may be lent at all (0: reference only or none: not holdable).
CREATE OR REPLACE FUNCTION sru.place_hold(p_library text, p_key text, p_hash text, p_patron text,
    p_record text, p_work jsonb, p_shelf text[], p_lendable int, p_pickup_municipality text,
    p_pickup_branch text, p_hold_limit int, p_pickup_days int)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    answer jsonb := sru.begin_change(p_library, 'PlaceHold', p_key, p_hash);
    h sru.hold;
    copy text;
BEGIN
    IF answer IS NOT NULL THEN
        RETURN answer;
    END IF;
    answer := sru.patron_refusal(p_library, p_patron);
    IF answer IS NULL AND EXISTS (SELECT 1 FROM sru.hold WHERE library = p_library AND patron_id = p_patron
                                     AND record_id = p_record AND state IN ('WAITING', 'READY')) THEN
        answer := sru.refusal(6, 'LIBRARY_ERROR_ALREADY_HELD', 'the patron holds it already');
    END IF;
    IF answer IS NULL AND (SELECT count(*) FROM sru.hold WHERE library = p_library AND patron_id = p_patron
                             AND state IN ('WAITING', 'READY')) >= p_hold_limit THEN
        answer := sru.refusal(8, 'LIBRARY_ERROR_HOLD_LIMIT_REACHED', format('at most %s holds', p_hold_limit));
    END IF;
    IF answer IS NULL AND p_lendable = 0 THEN
        answer := sru.refusal(9, 'LIBRARY_ERROR_NOT_HOLDABLE', 'no copy of it may be lent (reference only)');
    END IF;
    IF answer IS NULL THEN
        copy := sru.free_copy(p_library, p_shelf);
        INSERT INTO sru.hold (library, reference, hold_key, patron_id, record_id, work, state, item_id,
                              pickup_municipality, pickup_branch, expires_at)
        VALUES (p_library, sru.new_reference('H'), p_key, p_patron, p_record, p_work,
                CASE WHEN copy IS NULL THEN 'WAITING' ELSE 'READY' END, copy,
                p_pickup_municipality, p_pickup_branch,
                CASE WHEN copy IS NULL THEN NULL ELSE now() + make_interval(days => p_pickup_days) END)
        RETURNING * INTO h;
        answer := jsonb_build_object('code', 0, 'hold', sru.hold_json(h));
    END IF;
    RETURN sru.end_change(p_library, 'PlaceHold', p_key, p_hash, answer);
END $$;

-- CancelHold: a copy set aside for it goes to the next waiting hold.
CREATE OR REPLACE FUNCTION sru.cancel_hold(p_library text, p_key text, p_hash text, p_patron text,
                                           p_reference text, p_pickup_days int)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    answer jsonb := sru.begin_change(p_library, 'CancelHold', p_key, p_hash);
    h sru.hold;
    copy text;
BEGIN
    IF answer IS NOT NULL THEN
        RETURN answer;
    END IF;
    SELECT * INTO h FROM sru.hold WHERE library = p_library AND reference = p_reference AND patron_id = p_patron;
    IF NOT FOUND THEN
        answer := sru.refusal(5, 'ERROR_REASON_NOT_FOUND', 'no such hold');
    ELSIF h.state IN ('FULFILLED', 'EXPIRED') THEN
        answer := sru.refusal(9, 'LIBRARY_ERROR_HOLD_NOT_CANCELLABLE', 'the hold has ended');
    ELSE
        copy := CASE WHEN h.state = 'READY' THEN h.item_id END;
        UPDATE sru.hold SET state = 'CANCELLED', item_id = NULL, expires_at = NULL
         WHERE library = p_library AND reference = p_reference RETURNING * INTO h;
        IF copy IS NOT NULL THEN
            PERFORM sru.pass_copy(p_library, h.record_id, copy, p_pickup_days);
        END IF;
        answer := jsonb_build_object('code', 0, 'hold', sru.hold_json(h));
    END IF;
    RETURN sru.end_change(p_library, 'CancelHold', p_key, p_hash, answer);
END $$;

CREATE OR REPLACE FUNCTION sru.list_holds(p_library text, p_patron text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sru.patron_refusal(p_library, p_patron), jsonb_build_object('code', 0, 'holds',
        coalesce((SELECT jsonb_agg(sru.hold_json(h) ORDER BY h.seq) FROM sru.hold h
                   WHERE h.library = p_library AND h.patron_id = p_patron
                     AND h.state IN ('WAITING', 'READY')), '[]'::jsonb)))
$$;

CREATE OR REPLACE FUNCTION sru.list_loans(p_library text, p_patron text, p_returned boolean)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT coalesce(sru.patron_refusal(p_library, p_patron), jsonb_build_object('code', 0, 'loans',
        coalesce((SELECT jsonb_agg(sru.loan_json(l) ORDER BY l.due_date, l.reference) FROM sru.loan l
                   WHERE l.library = p_library AND l.patron_id = p_patron
                     AND (l.returned_at IS NULL
                          OR (p_returned AND l.returned_at > now() - interval '90 days'))), '[]'::jsonb)))
$$;

-- Checkout of a print copy at a counter. p_on_shelf: the catalogue shows it on the shelf.
CREATE OR REPLACE FUNCTION sru.checkout(p_library text, p_key text, p_hash text, p_patron text,
    p_item text, p_branch text, p_record text, p_work jsonb, p_on_shelf boolean,
    p_loan_limit int, p_loan_days int, p_max_renewals int)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    answer jsonb := sru.begin_change(p_library, 'Checkout', p_key, p_hash);
    ready sru.hold;
    l sru.loan;
BEGIN
    IF answer IS NOT NULL THEN
        RETURN answer;
    END IF;
    answer := sru.patron_refusal(p_library, p_patron);
    SELECT * INTO ready FROM sru.hold
     WHERE library = p_library AND item_id = p_item AND state = 'READY';
    IF answer IS NULL AND (SELECT count(*) FROM sru.loan WHERE library = p_library AND patron_id = p_patron
                             AND returned_at IS NULL) >= p_loan_limit THEN
        answer := sru.refusal(8, 'LIBRARY_ERROR_LOAN_LIMIT_REACHED', format('at most %s loans', p_loan_limit));
    ELSIF answer IS NULL AND (NOT p_on_shelf
            OR EXISTS (SELECT 1 FROM sru.loan WHERE library = p_library AND item_id = p_item AND returned_at IS NULL)
            OR (ready.reference IS NOT NULL AND ready.patron_id <> p_patron)) THEN
        answer := sru.refusal(9, 'LIBRARY_ERROR_NOT_HOLDABLE', 'the item is not on the shelf');
    END IF;
    IF answer IS NULL THEN
        IF ready.reference IS NOT NULL THEN
            UPDATE sru.hold SET state = 'FULFILLED', item_id = NULL, expires_at = NULL
             WHERE library = p_library AND reference = ready.reference;
        END IF;
        INSERT INTO sru.loan (library, reference, loan_key, patron_id, record_id, work, item_id, branch_id,
                              borrowed_on, due_date, max_renewals)
        VALUES (p_library, sru.new_reference('L'), p_key, p_patron, p_record, p_work, p_item, p_branch,
                sru.today(), sru.today() + p_loan_days, p_max_renewals)
        RETURNING * INTO l;
        answer := jsonb_build_object('code', 0, 'loan', sru.loan_json(l));
    END IF;
    RETURN sru.end_change(p_library, 'Checkout', p_key, p_hash, answer);
END $$;

CREATE OR REPLACE FUNCTION sru.renew(p_library text, p_key text, p_hash text, p_patron text,
                                     p_reference text, p_loan_days int)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    answer jsonb := sru.begin_change(p_library, 'Renew', p_key, p_hash);
    l sru.loan;
BEGIN
    IF answer IS NOT NULL THEN
        RETURN answer;
    END IF;
    SELECT * INTO l FROM sru.loan WHERE library = p_library AND reference = p_reference AND patron_id = p_patron;
    IF NOT FOUND THEN
        answer := sru.refusal(5, 'ERROR_REASON_NOT_FOUND', 'no such loan');
    ELSIF l.returned_at IS NOT NULL THEN
        answer := sru.refusal(9, 'LIBRARY_ERROR_RENEWAL_REFUSED', 'the loan was returned');
    ELSIF l.due_date < sru.today() THEN
        answer := sru.refusal(9, 'LIBRARY_ERROR_RENEWAL_REFUSED', 'the loan is overdue');
    ELSIF l.renewals >= l.max_renewals THEN
        answer := sru.refusal(9, 'LIBRARY_ERROR_RENEWAL_REFUSED', format('renewed %s times already', l.renewals));
    ELSIF EXISTS (SELECT 1 FROM sru.hold WHERE library = p_library AND record_id = l.record_id AND state = 'WAITING') THEN
        answer := sru.refusal(9, 'LIBRARY_ERROR_RENEWAL_REFUSED', 'others are waiting for it');
    ELSE
        UPDATE sru.loan SET renewals = renewals + 1, due_date = sru.today() + p_loan_days
         WHERE library = p_library AND reference = p_reference RETURNING * INTO l;
        answer := jsonb_build_object('code', 0, 'loan', sru.loan_json(l));
    END IF;
    RETURN sru.end_change(p_library, 'Renew', p_key, p_hash, answer);
END $$;

-- ReturnLoan: the copy goes to the first waiting hold on its record.
CREATE OR REPLACE FUNCTION sru.return_loan(p_library text, p_key text, p_hash text, p_patron text,
                                           p_reference text, p_pickup_days int)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    answer jsonb := sru.begin_change(p_library, 'ReturnLoan', p_key, p_hash);
    l sru.loan;
BEGIN
    IF answer IS NOT NULL THEN
        RETURN answer;
    END IF;
    SELECT * INTO l FROM sru.loan WHERE library = p_library AND reference = p_reference AND patron_id = p_patron;
    IF NOT FOUND THEN
        answer := sru.refusal(5, 'ERROR_REASON_NOT_FOUND', 'no such loan');
    ELSE
        IF l.returned_at IS NULL THEN
            UPDATE sru.loan SET returned_at = now()
             WHERE library = p_library AND reference = p_reference RETURNING * INTO l;
            PERFORM sru.pass_copy(p_library, l.record_id, l.item_id, p_pickup_days);
        END IF;
        answer := jsonb_build_object('code', 0, 'loan', sru.loan_json(l));
    END IF;
    RETURN sru.end_change(p_library, 'ReturnLoan', p_key, p_hash, answer);
END $$;

-- What this adapter's circulation changed about some records: copies lent or set aside, and
-- how many holds wait on each record (holdings overlay).
CREATE OR REPLACE FUNCTION sru.circulation_of(p_library text, p_records text[]) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'items', coalesce((SELECT jsonb_agg(x) FROM (
            SELECT jsonb_build_object('record_id', record_id, 'item_id', item_id, 'status', 'ON_LOAN',
                                      'due_date', due_date::text) AS x
              FROM sru.loan WHERE library = p_library AND record_id = ANY (p_records) AND returned_at IS NULL
            UNION ALL
            SELECT jsonb_build_object('record_id', record_id, 'item_id', item_id, 'status', 'RESERVED',
                                      'due_date', '')
              FROM sru.hold WHERE library = p_library AND record_id = ANY (p_records) AND state = 'READY') s), '[]'),
        'queues', coalesce((SELECT jsonb_object_agg(record_id, n) FROM (
            SELECT record_id, count(*) AS n FROM sru.hold
             WHERE library = p_library AND record_id = ANY (p_records) AND state = 'WAITING'
             GROUP BY record_id) q), '{}'))
$$;
