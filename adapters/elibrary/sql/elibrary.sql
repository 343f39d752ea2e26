-- elibrary.sql — the e-library's own database (schema elibrary), applied by
-- renkei-adapter-elibrary at start-up under an advisory lock; every statement is idempotent, so
-- a new version replaces the functions. Several e-libraries may share one database: every row
-- carries its library's municipality code and every function filters on it.
--
-- Titles are lent under one of two licences: one_copy_one_user (ワンコピー・ワンユーザ: at most
-- `copies` loans at once) or unlimited (読み放題). Checkout is immediate; a loan is returned
-- automatically at its due time (elibrary.expire, run first by every call); each patron has at
-- most settings.loan_limit loans at once. Every AdapterService call is one call of
-- elibrary.call(method, request, request_hash, municipality), which answers {"ok": response}
-- or {"code", "reason", "message"} / {"code": 3, "field", "description"} (../common/sql_call.h).
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE SCHEMA IF NOT EXISTS elibrary;

CREATE TABLE IF NOT EXISTS elibrary.settings (
    municipality text PRIMARY KEY,
    loan_days    integer NOT NULL CHECK (loan_days BETWEEN 1 AND 60),
    loan_limit   integer NOT NULL CHECK (loan_limit BETWEEN 1 AND 100),
    max_renewals integer NOT NULL CHECK (max_renewals BETWEEN 0 AND 10),
    reader_base  text NOT NULL
);

CREATE TABLE IF NOT EXISTS elibrary.title (
    municipality text NOT NULL,
    record_id    text NOT NULL CHECK (record_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    isbn13       text NOT NULL DEFAULT '' CHECK (isbn13 ~ '^(97[89][0-9]{10})?$'),
    title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    title_kana   text NOT NULL DEFAULT '',
    author       text NOT NULL DEFAULT '',
    author_kana  text NOT NULL DEFAULT '',
    publisher    text NOT NULL DEFAULT '',
    year         integer NOT NULL DEFAULT 0,
    ndc          text NOT NULL DEFAULT '',
    format       text NOT NULL DEFAULT 'WORK_FORMAT_EBOOK'
                 CHECK (format IN ('WORK_FORMAT_EBOOK', 'WORK_FORMAT_AUDIOBOOK')),
    licence      text NOT NULL CHECK (licence IN ('one_copy_one_user', 'unlimited')),
    copies       integer NOT NULL DEFAULT 1 CHECK (copies BETWEEN 1 AND 10000),
    PRIMARY KEY (municipality, record_id)
);

-- Pupils (the hub's pupil IDs: calls whose resident.ageBand is ELEMENTARY or LOWER_SECONDARY)
-- have their own loan limit; a title may be kept from younger readers: age_restriction
-- 'lower_secondary' (not lent to elementary pupils) or 'adult' (not lent to pupils at all).
ALTER TABLE elibrary.settings ADD COLUMN IF NOT EXISTS pupil_loan_limit integer NOT NULL DEFAULT 3
    CHECK (pupil_loan_limit BETWEEN 1 AND 100);
ALTER TABLE elibrary.title ADD COLUMN IF NOT EXISTS age_restriction text NOT NULL DEFAULT ''
    CHECK (age_restriction IN ('', 'lower_secondary', 'adult'));

CREATE TABLE IF NOT EXISTS elibrary.patron (
    municipality text NOT NULL,
    patron_id    text NOT NULL,
    card_hash    bytea,                 -- SHA-256 of the card number; NULL: issued by certificate
    pin_hash     text,                  -- bcrypt
    pairwise     text,                  -- CERTIFICATE: the resident's pairwise id
    expires_on   date NOT NULL,
    PRIMARY KEY (municipality, patron_id),
    UNIQUE (municipality, card_hash),
    UNIQUE (municipality, pairwise)
);

CREATE TABLE IF NOT EXISTS elibrary.loan (
    municipality text NOT NULL,
    reference    text NOT NULL,
    loan_key     text NOT NULL,
    patron_id    text NOT NULL,
    record_id    text NOT NULL,
    borrowed_at  timestamptz NOT NULL DEFAULT now(),
    due_at       timestamptz NOT NULL,
    renewals     integer NOT NULL DEFAULT 0,
    returned_at  timestamptz,
    PRIMARY KEY (municipality, reference),
    FOREIGN KEY (municipality, record_id) REFERENCES elibrary.title
);
CREATE INDEX IF NOT EXISTS loan_open ON elibrary.loan (municipality, due_at) WHERE returned_at IS NULL;

CREATE TABLE IF NOT EXISTS elibrary.idempotency (
    municipality text NOT NULL,
    method       text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,
    answer       jsonb NOT NULL,
    PRIMARY KEY (municipality, method, key)
);

CREATE SEQUENCE IF NOT EXISTS elibrary.loan_number;

-- Set-up: the library's settings, its titles (replaced) and its demo cards (PINs hashed here).
CREATE OR REPLACE FUNCTION elibrary.seed(p_m text, p_settings jsonb, p_titles jsonb,
                                         p_patrons jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO elibrary.settings AS s (municipality, loan_days, loan_limit, pupil_loan_limit,
                                        max_renewals, reader_base)
    VALUES (p_m, (p_settings ->> 'loan_days')::int, (p_settings ->> 'loan_limit')::int,
            (p_settings ->> 'pupil_loan_limit')::int, (p_settings ->> 'max_renewals')::int,
            p_settings ->> 'reader_base')
    ON CONFLICT (municipality) DO UPDATE SET loan_days = EXCLUDED.loan_days,
        loan_limit = EXCLUDED.loan_limit, pupil_loan_limit = EXCLUDED.pupil_loan_limit,
        max_renewals = EXCLUDED.max_renewals,
        reader_base = EXCLUDED.reader_base;
    INSERT INTO elibrary.title AS t (municipality, record_id, isbn13, title, title_kana, author,
                                     author_kana, publisher, year, ndc, format, licence, copies,
                                     age_restriction)
    SELECT p_m, x ->> 'record_id', coalesce(x ->> 'isbn13', ''), x ->> 'title',
           coalesce(x ->> 'title_kana', ''), coalesce(x ->> 'author', ''),
           coalesce(x ->> 'author_kana', ''), coalesce(x ->> 'publisher', ''),
           coalesce((x ->> 'year')::int, 0), coalesce(x ->> 'ndc', ''),
           coalesce(x ->> 'format', 'WORK_FORMAT_EBOOK'), x ->> 'licence',
           coalesce((x ->> 'copies')::int, 1), coalesce(x ->> 'age_restriction', '')
      FROM jsonb_array_elements(p_titles) x
    ON CONFLICT (municipality, record_id) DO UPDATE SET isbn13 = EXCLUDED.isbn13,
        title = EXCLUDED.title, title_kana = EXCLUDED.title_kana, author = EXCLUDED.author,
        author_kana = EXCLUDED.author_kana, publisher = EXCLUDED.publisher, year = EXCLUDED.year,
        ndc = EXCLUDED.ndc, format = EXCLUDED.format, licence = EXCLUDED.licence,
        copies = EXCLUDED.copies, age_restriction = EXCLUDED.age_restriction;
    INSERT INTO elibrary.patron (municipality, patron_id, card_hash, pin_hash, expires_on)
    SELECT p_m, 'EP' || substr(encode(digest(x ->> 'card', 'sha256'), 'hex'), 1, 16),
           digest(x ->> 'card', 'sha256'), crypt(x ->> 'pin', gen_salt('bf', 8)),
           (now() AT TIME ZONE 'Asia/Tokyo')::date + 365
      FROM jsonb_array_elements(p_patrons) x
    ON CONFLICT (municipality, card_hash) DO NOTHING;
END
$$;

-- The patron a call is for: by the patron id VerifyPatron gave, else — the city's e-library
-- lends to whoever holds a card of the city's library, which the hub verified — the patron
-- issued for the resident's pairwise id (made at the first call). NULL when neither.
CREATE OR REPLACE FUNCTION elibrary.patron_of(p_m text, q jsonb) RETURNS elibrary.patron
LANGUAGE plpgsql AS $$
DECLARE
    v_p elibrary.patron;
    v_pairwise text := coalesce(q -> 'resident' ->> 'pairwiseId', '');
BEGIN
    SELECT * INTO v_p FROM elibrary.patron
     WHERE municipality = p_m AND patron_id = coalesce(q ->> 'patronId', '');
    -- a card's patron learns the resident's pairwise id (what the e-library's own site, which
    -- logs residents in with the hub's OIDC, knows them by), unless another patron has it
    IF v_p.patron_id IS NOT NULL AND v_p.pairwise IS NULL AND v_pairwise <> '' THEN
        UPDATE elibrary.patron SET pairwise = v_pairwise
         WHERE municipality = p_m AND patron_id = v_p.patron_id
           AND NOT EXISTS (SELECT 1 FROM elibrary.patron o
                            WHERE o.municipality = p_m AND o.pairwise = v_pairwise);
    END IF;
    IF v_p.patron_id IS NULL AND v_pairwise <> '' THEN
        INSERT INTO elibrary.patron (municipality, patron_id, pairwise, expires_on)
        VALUES (p_m, 'EC' || substr(encode(digest(v_pairwise, 'sha256'), 'hex'), 1, 16), v_pairwise,
                (now() AT TIME ZONE 'Asia/Tokyo')::date + 365)
        ON CONFLICT (municipality, pairwise) DO NOTHING;
        SELECT * INTO v_p FROM elibrary.patron WHERE municipality = p_m AND pairwise = v_pairwise;
    END IF;
    RETURN v_p;
END
$$;

-- Whether the call is a pupil's: the hub discloses an age band only for pupil IDs.
CREATE OR REPLACE FUNCTION elibrary.is_pupil(q jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(q -> 'resident' ->> 'ageBand', '') IN ('AGE_BAND_ELEMENTARY',
                                                          'AGE_BAND_LOWER_SECONDARY')
$$;

-- Whether a title's age restriction keeps it from the call's age band (an undisclosed band is
-- an adult's).
CREATE OR REPLACE FUNCTION elibrary.age_refused(t elibrary.title, q jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE t.age_restriction
               WHEN 'adult' THEN coalesce(q -> 'resident' ->> 'ageBand', '') IN
                   ('AGE_BAND_PRESCHOOL', 'AGE_BAND_ELEMENTARY', 'AGE_BAND_LOWER_SECONDARY',
                    'AGE_BAND_UPPER_SECONDARY')
               WHEN 'lower_secondary' THEN coalesce(q -> 'resident' ->> 'ageBand', '') IN
                   ('AGE_BAND_PRESCHOOL', 'AGE_BAND_ELEMENTARY')
               ELSE false END
$$;

-- Loans past their due time are returned, at that time.
CREATE OR REPLACE FUNCTION elibrary.expire(p_m text) RETURNS void LANGUAGE sql AS $$
    UPDATE elibrary.loan SET returned_at = due_at
     WHERE municipality = p_m AND returned_at IS NULL AND due_at <= now()
$$;

CREATE OR REPLACE FUNCTION elibrary.err(p_code int, p_reason text, p_message text)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('code', p_code, 'reason', p_reason, 'message', p_message)
$$;

CREATE OR REPLACE FUNCTION elibrary.field(p_field text, p_description text)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('code', 3, 'field', p_field, 'description', p_description)
$$;

CREATE OR REPLACE FUNCTION elibrary.work(t elibrary.title) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'isbn13', nullif(t.isbn13, ''),
        'title', jsonb_build_object('ja', t.title, 'kana', nullif(t.title_kana, '')),
        'authors', CASE WHEN t.author <> '' THEN jsonb_build_array(jsonb_build_object('name',
                       jsonb_strip_nulls(jsonb_build_object('ja', t.author,
                                                            'kana', nullif(t.author_kana, '')))))
                   END,
        'publisher', nullif(t.publisher, ''), 'year', nullif(t.year, 0),
        'ndc', nullif(t.ndc, ''), 'format', t.format))
$$;

CREATE OR REPLACE FUNCTION elibrary.loan_json(l elibrary.loan, p_max integer, p_reader text)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'ownerReference', l.reference, 'loanKey', l.loan_key, 'recordId', l.record_id,
        'work', (SELECT elibrary.work(t) FROM elibrary.title t
                  WHERE t.municipality = l.municipality AND t.record_id = l.record_id),
        'state', CASE WHEN l.returned_at IS NULL THEN 'LOAN_STATE_ACTIVE' ELSE 'LOAN_STATE_RETURNED' END,
        'borrowedOn', to_char(l.borrowed_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD'),
        'dueDate', to_char(l.due_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD'),
        'renewals', l.renewals, 'maxRenewals', p_max, 'elibrary', true,
        'readerUrl', CASE WHEN l.returned_at IS NULL THEN p_reader || l.reference END,
        'returnedAt', to_char(l.returned_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))
$$;

-- The catalogue: titles whose fields contain every word given (ILIKE, the words' wildcards
-- escaped); print asks find none.
CREATE OR REPLACE FUNCTION elibrary.search(p_m text, q jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_isbn text := coalesce(q ->> 'isbn', '');
    v_out jsonb;
    v_limit int := least(greatest(coalesce((q -> 'page' ->> 'pageSize')::int, 20), 1), 100);
BEGIN
    IF q ->> 'format' = 'WORK_FORMAT_PRINT' THEN
        RETURN jsonb_build_object('ok', jsonb_build_object());
    END IF;
    SELECT jsonb_agg(jsonb_build_object('recordId', t.record_id, 'work', elibrary.work(t),
                                        'holdings', '[]'::jsonb) ORDER BY t.title, t.record_id)
      INTO v_out
      FROM (SELECT * FROM elibrary.title t
             WHERE t.municipality = p_m
               AND (v_isbn = '' OR t.isbn13 = v_isbn)
               AND (q ->> 'format' IS NULL OR t.format = q ->> 'format')
               AND NOT EXISTS (
                   SELECT 1 FROM (VALUES ('title', t.title || ' ' || t.title_kana),
                                         ('author', t.author || ' ' || t.author_kana),
                                         ('keyword', t.title || ' ' || t.title_kana || ' ' || t.author
                                                     || ' ' || t.author_kana || ' ' || t.publisher),
                                         ('subject', t.ndc)) f(name, text),
                          regexp_split_to_table(coalesce(q ->> f.name, ''), '[ 　]+') w
                    WHERE w <> '' AND position(lower(w) IN lower(f.text)) = 0)
             ORDER BY t.title, t.record_id LIMIT v_limit) t;
    RETURN jsonb_build_object('ok', jsonb_strip_nulls(jsonb_build_object('records', v_out)));
END
$$;

CREATE OR REPLACE FUNCTION elibrary.verify_patron(p_m text, q jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_p elibrary.patron;
    v_s elibrary.settings;
    v_pairwise text := q -> 'resident' ->> 'pairwiseId';
BEGIN
    SELECT * INTO v_s FROM elibrary.settings WHERE municipality = p_m;
    IF q ->> 'method' IN ('PATRON_LINK_METHOD_CERTIFICATE', 'PATRON_LINK_METHOD_PUPIL_ID') THEN
        IF coalesce(v_pairwise, '') = '' THEN
            RETURN elibrary.field('resident.pairwise_id', 'required for a certificate or pupil link');
        END IF;
        -- a pupil ID is the city's own: its pupils need no card at its e-library
        IF q ->> 'method' = 'PATRON_LINK_METHOD_PUPIL_ID' AND NOT elibrary.is_pupil(q) THEN
            RETURN elibrary.field('resident.age_band', 'ELEMENTARY or LOWER_SECONDARY for a pupil ID');
        END IF;
        IF q ->> 'method' = 'PATRON_LINK_METHOD_PUPIL_ID'
           AND coalesce(q -> 'resident' -> 'homeMunicipality' ->> 'code', '') <> p_m THEN
            RETURN elibrary.err(7, 'LIBRARY_ERROR_PATRON_REJECTED',
                                'a pupil ID is good at the e-library of the city that issued it');
        END IF;
        v_p := elibrary.patron_of(p_m, q - 'patronId');
    ELSE
        SELECT * INTO v_p FROM elibrary.patron
         WHERE municipality = p_m AND card_hash = digest(coalesce(q ->> 'cardNumber', ''), 'sha256');
        -- an unknown card costs a bcrypt like a wrong PIN
        IF v_p.patron_id IS NULL OR v_p.pin_hash IS NULL
           OR crypt(coalesce(q ->> 'pin', ''), coalesce(v_p.pin_hash, gen_salt('bf', 8))) <> v_p.pin_hash
           OR v_p.expires_on < (now() AT TIME ZONE 'Asia/Tokyo')::date THEN
            RETURN elibrary.err(7, 'LIBRARY_ERROR_PATRON_REJECTED',
                                'the card number or PIN is wrong, or the card has expired');
        END IF;
    END IF;
    RETURN jsonb_build_object('ok', jsonb_build_object(
        'patronId', v_p.patron_id,
        'cardNumberMasked', CASE WHEN q ->> 'cardNumber' IS NOT NULL
                                 THEN '******' || right(q ->> 'cardNumber', 4) ELSE '' END,
        'expiresOn', to_char(v_p.expires_on, 'YYYY-MM-DD'),
        'loanLimit', CASE WHEN elibrary.is_pupil(q) THEN v_s.pupil_loan_limit
                          ELSE v_s.loan_limit END));
END
$$;

-- The mutations: Checkout, Renew, ReturnLoan under the library's lock order (title, then patron).
CREATE OR REPLACE FUNCTION elibrary.mutate(p_method text, p_m text, q jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_s elibrary.settings;
    v_t elibrary.title;
    v_p elibrary.patron;
    v_l elibrary.loan;
    v_patron text;
    v_limit integer;
BEGIN
    SELECT * INTO v_s FROM elibrary.settings WHERE municipality = p_m;
    v_limit := CASE WHEN elibrary.is_pupil(q) THEN v_s.pupil_loan_limit ELSE v_s.loan_limit END;
    IF p_method = 'Checkout' THEN
        SELECT * INTO v_t FROM elibrary.title
         WHERE municipality = p_m AND record_id = coalesce(q ->> 'recordId', '') FOR UPDATE;
        IF v_t.record_id IS NULL THEN
            RETURN elibrary.field('record_id', 'not a title of this e-library');
        END IF;
    END IF;
    v_p := elibrary.patron_of(p_m, q);
    v_patron := v_p.patron_id;
    IF v_p.patron_id IS NULL OR v_p.expires_on < (now() AT TIME ZONE 'Asia/Tokyo')::date THEN
        RETURN elibrary.err(7, 'LIBRARY_ERROR_PATRON_REJECTED', 'no such patron, or the card has expired');
    END IF;
    IF p_method = 'Checkout' THEN
        IF elibrary.age_refused(v_t, q) THEN
            RETURN elibrary.err(7, 'LIBRARY_ERROR_AGE_RESTRICTED',
                                CASE v_t.age_restriction WHEN 'adult'
                                     THEN 'this title is for adults: it is not lent to pupils'
                                     ELSE 'this title is not lent to elementary pupils' END);
        END IF;
        IF EXISTS (SELECT 1 FROM elibrary.loan WHERE municipality = p_m AND patron_id = v_patron
                      AND record_id = v_t.record_id AND returned_at IS NULL) THEN
            RETURN elibrary.err(6, 'LIBRARY_ERROR_ALREADY_ON_LOAN', 'this patron already borrows it');
        END IF;
        IF (SELECT count(*) FROM elibrary.loan WHERE municipality = p_m AND patron_id = v_patron
               AND returned_at IS NULL) >= v_limit THEN
            RETURN elibrary.err(8, 'LIBRARY_ERROR_LOAN_LIMIT_REACHED',
                                format('at most %s e-books at once', v_limit));
        END IF;
        IF v_t.licence = 'one_copy_one_user' AND (SELECT count(*) FROM elibrary.loan
               WHERE municipality = p_m AND record_id = v_t.record_id AND returned_at IS NULL)
               >= v_t.copies THEN
            RETURN elibrary.err(8, 'LIBRARY_ERROR_NO_LICENCE_AVAILABLE',
                                'every licence of this title is lent');
        END IF;
        INSERT INTO elibrary.loan (municipality, reference, loan_key, patron_id, record_id, due_at)
        VALUES (p_m, p_m || '-E' || lpad(nextval('elibrary.loan_number')::text, 8, '0'),
                q -> 'idempotencyKey' ->> 'key', v_patron, v_t.record_id,
                now() + v_s.loan_days * interval '1 day')
        RETURNING * INTO v_l;
    ELSE
        SELECT * INTO v_l FROM elibrary.loan
         WHERE municipality = p_m AND patron_id = v_patron
           AND reference = coalesce(q ->> 'ownerReference', '') FOR UPDATE;
        IF v_l.reference IS NULL THEN
            RETURN elibrary.err(5, 'ERROR_REASON_NOT_FOUND', 'no such loan of this patron');
        END IF;
        IF p_method = 'Renew' THEN
            IF v_l.returned_at IS NOT NULL OR v_l.renewals >= v_s.max_renewals THEN
                RETURN elibrary.err(9, 'LIBRARY_ERROR_RENEWAL_REFUSED',
                                    CASE WHEN v_l.returned_at IS NOT NULL THEN 'the loan was returned'
                                         ELSE format('renewed %s times already', v_l.renewals) END);
            END IF;
            UPDATE elibrary.loan SET renewals = renewals + 1,
                                     due_at = now() + v_s.loan_days * interval '1 day'
             WHERE municipality = p_m AND reference = v_l.reference RETURNING * INTO v_l;
        ELSIF v_l.returned_at IS NULL THEN
            UPDATE elibrary.loan SET returned_at = now()
             WHERE municipality = p_m AND reference = v_l.reference RETURNING * INTO v_l;
        END IF;
    END IF;
    RETURN jsonb_build_object('ok', jsonb_build_object(
        'loan', elibrary.loan_json(v_l, v_s.max_renewals, v_s.reader_base)));
END
$$;

CREATE OR REPLACE FUNCTION elibrary.call(p_method text, q jsonb, p_hash text, p_m text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_key text := q -> 'idempotencyKey' ->> 'key';
    v_idem elibrary.idempotency;
    v_answer jsonb;
    v_s elibrary.settings;
    v_patron text;
BEGIN
    PERFORM elibrary.expire(p_m);
    IF p_method = 'SearchCatalogue' THEN
        RETURN elibrary.search(p_m, q);
    ELSIF p_method = 'GetHoldings' AND jsonb_array_length(coalesce(q -> 'recordIds', '[]')) > 0 THEN
        RETURN jsonb_build_object('ok', jsonb_strip_nulls(jsonb_build_object('records',
            (SELECT jsonb_agg(jsonb_build_object('recordId', t.record_id, 'work', elibrary.work(t)))
               FROM elibrary.title t
              WHERE t.municipality = p_m
                AND t.record_id IN (SELECT jsonb_array_elements_text(q -> 'recordIds'))))));
    ELSIF p_method = 'GetHoldings' THEN
        RETURN elibrary.search(p_m, jsonb_build_object('isbn', coalesce(q ->> 'isbn', '-')));
    ELSIF p_method = 'VerifyPatron' THEN
        RETURN elibrary.verify_patron(p_m, q);
    ELSIF p_method = 'ListLoans' THEN
        SELECT * INTO v_s FROM elibrary.settings WHERE municipality = p_m;
        v_patron := (elibrary.patron_of(p_m, q)).patron_id;
        RETURN jsonb_build_object('ok', jsonb_strip_nulls(jsonb_build_object('loans',
            (SELECT jsonb_agg(elibrary.loan_json(l, v_s.max_renewals, v_s.reader_base)
                              ORDER BY l.due_at)
               FROM elibrary.loan l
              WHERE l.municipality = p_m AND l.patron_id = v_patron
                AND (l.returned_at IS NULL OR ((q ->> 'includeReturned')::boolean
                     AND l.returned_at > now() - interval '90 days'))))));
    END IF;
    IF coalesce(v_key, '') = '' OR length(v_key) > 128 THEN
        RETURN elibrary.field('idempotency_key', 'required, 1 to 128 characters');
    END IF;
    -- one writer per library at a time: the idempotency check and the change are one step
    PERFORM pg_advisory_xact_lock(hashtext('elibrary:' || p_m));
    SELECT * INTO v_idem FROM elibrary.idempotency
     WHERE municipality = p_m AND method = p_method AND key = v_key;
    IF FOUND THEN
        IF v_idem.request_hash <> p_hash THEN
            RETURN elibrary.err(6, 'ERROR_REASON_IDEMPOTENCY_KEY_REUSED',
                                'this idempotency key was used for another request');
        END IF;
        RETURN v_idem.answer;
    END IF;
    v_answer := elibrary.mutate(p_method, p_m, q);
    IF (v_answer ->> 'code')::int = 3 THEN
        RETURN v_answer; -- a malformed request is not remembered under its key
    END IF;
    INSERT INTO elibrary.idempotency (municipality, method, key, request_hash, answer)
    VALUES (p_m, p_method, v_key, p_hash, v_answer);
    RETURN v_answer;
END
$$;

-- The e-library's own site (web.c): what a resident logged in with the hub's OIDC sees — their
-- loans (by the patron of their pairwise subject, which is the ResidentContext.pairwise_id the
-- hub sends) and the titles their age band may borrow (a pupil does not see the ones kept from
-- it), each with whether a licence is free.
CREATE OR REPLACE FUNCTION elibrary.web_view(p_m text, p_sub text, p_band text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_s elibrary.settings;
    v_q jsonb := jsonb_build_object('resident', jsonb_build_object('ageBand', p_band));
BEGIN
    PERFORM elibrary.expire(p_m);
    SELECT * INTO v_s FROM elibrary.settings WHERE municipality = p_m;
    RETURN jsonb_build_object(
        'loan_limit', CASE WHEN elibrary.is_pupil(v_q) THEN v_s.pupil_loan_limit ELSE v_s.loan_limit END,
        'loans', coalesce((SELECT jsonb_agg(elibrary.loan_json(l, v_s.max_renewals, v_s.reader_base)
                                            ORDER BY l.due_at)
                             FROM elibrary.loan l JOIN elibrary.patron p USING (municipality, patron_id)
                            WHERE l.municipality = p_m AND p.pairwise = p_sub
                              AND l.returned_at IS NULL), '[]'),
        'titles', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                'record_id', t.record_id, 'title', t.title, 'author', t.author,
                                'format', t.format, 'age_restriction', t.age_restriction,
                                'mine', EXISTS (SELECT 1 FROM elibrary.loan l
                                    JOIN elibrary.patron p USING (municipality, patron_id)
                                    WHERE l.municipality = p_m AND l.record_id = t.record_id
                                      AND p.pairwise = p_sub AND l.returned_at IS NULL),
                                'available', t.licence = 'unlimited' OR (SELECT count(*)
                                    FROM elibrary.loan l WHERE l.municipality = p_m
                                     AND l.record_id = t.record_id AND l.returned_at IS NULL) < t.copies)
                                ORDER BY t.title_kana, t.record_id)
                              FROM elibrary.title t
                             WHERE t.municipality = p_m AND NOT elibrary.age_refused(t, v_q)), '[]'));
END
$$;
