-- 0016_library_loans: the library broker's loans (hub/library/loan.c): the residents' loans of
-- every city — print items lent at a counter, seen through the owners' ListLoans, and e-books
-- lent through the hub (ElibraryCheckout) — on the state machine of DESIGN.md "Booking and loan
-- broker": requested → checking_out → active (| failed); active | overdue → returning →
-- returned (a refused return goes back: return_from). A renewal is a flag on a live loan
-- (renewing = the number of the renewal asked of the owner, whose key is "<id>:r<number>").
CREATE TABLE rk_library_loan (
    id                 text PRIMARY KEY CHECK (id ~ '^ll_[0-9a-f]{32}$'),
    account_id         bigint REFERENCES rk_identity_account (id) ON DELETE SET NULL,
    tenant_id          bigint NOT NULL REFERENCES rk_tenant (id),
    adapter_id         bigint NOT NULL,
    patron_ref         text NOT NULL,
    elibrary           boolean NOT NULL DEFAULT false,
    work_id            text NOT NULL DEFAULT '' CHECK (length(work_id) <= 1023),
    record_id          text NOT NULL DEFAULT '',
    work               jsonb,                           -- the Work (proto3 JSON), for display
    item_id            text NOT NULL DEFAULT '',
    branch_id          text NOT NULL DEFAULT '',
    state              text NOT NULL CHECK (state IN ('requested', 'checking_out', 'active',
                           'overdue', 'returning', 'returned', 'failed')),
    borrowed_on        text NOT NULL DEFAULT '',
    due_date           text NOT NULL DEFAULT '',
    renewals           integer NOT NULL DEFAULT 0,
    max_renewals       integer NOT NULL DEFAULT 0,
    renewing           integer NOT NULL DEFAULT 0,      -- the renewal asked of the owner; 0 none
    renew_refused      text NOT NULL DEFAULT '',        -- LibraryError of the last refused renewal
    renew_refused_at   integer NOT NULL DEFAULT 0,      -- its number
    reader_url         text NOT NULL DEFAULT '',
    returned_at        timestamptz,
    owner_reference    text NOT NULL DEFAULT '',
    error              text NOT NULL DEFAULT '',        -- LibraryError name when FAILED
    return_from        text NOT NULL DEFAULT '' CHECK (return_from IN ('', 'active', 'overdue')),
    home_municipality  text NOT NULL,
    residency_class    text NOT NULL CHECK (residency_class IN ('resident', 'partner_area',
                                                                'outsider')),
    agreement_id       bigint,
    agreement_version  integer,
    lease_until        timestamptz NOT NULL DEFAULT now(),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rk_library_loan_account ON rk_library_loan (account_id, due_date);
CREATE INDEX rk_library_loan_pending ON rk_library_loan (lease_until)
    WHERE state IN ('requested', 'checking_out', 'returning') OR renewing > 0;
-- The owner's loan is one row.
CREATE UNIQUE INDEX rk_library_loan_owner ON rk_library_loan (tenant_id, patron_ref, owner_reference)
    WHERE owner_reference <> '';
-- One live e-library loan per account, library and work.
CREATE UNIQUE INDEX rk_library_loan_live ON rk_library_loan (account_id, tenant_id, work_id)
    WHERE elibrary AND state IN ('requested', 'checking_out', 'active', 'overdue', 'returning');

-- A client's idempotency key per account and method: the request (a hash), the loan, and for
-- renewals the renewal's number.
CREATE TABLE rk_library_loan_idempotency (
    account_id   bigint NOT NULL REFERENCES rk_identity_account (id) ON DELETE CASCADE,
    method       text NOT NULL CHECK (method IN ('checkout', 'renew', 'return')),
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 128),
    request_hash text NOT NULL,
    loan_id      text NOT NULL REFERENCES rk_library_loan (id) ON DELETE CASCADE,
    renewal      integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, method, key)
);

-- The caller's terms at tenant p_owner for p_service: (class, agreement id, version), the class
-- 'outsider' when no agreement covers the caller's home.
CREATE FUNCTION rk_library_loan_terms(p_home bigint, p_owner bigint, p_service text,
                                      OUT residency_class text, OUT eligible boolean,
                                      OUT agreement_id bigint, OUT agreement_version integer)
LANGUAGE sql STABLE AS $$
    SELECT rt.residency_class, rt.eligible, rt.agreement_id, rt.agreement_version
      FROM rk_resident_terms(p_home, p_service) rt WHERE rt.tenant_id = p_owner
$$;

-- ElibraryCheckout's first transaction, on the caller's terms (rk_resident_terms, 'elibrary').
-- Answers json {"outcome": …}: "login", "replay" / "reused" (the key's loan, "id"),
-- "no_owner", "not_eligible" ("owner", "home" names), "no_adapter" (no active e-library
-- adapter), "not_linked", "already_on_loan" ("id": the live loan of this work there), or "new"
-- ("id": a REQUESTED row; "adapter", "owner_code").
CREATE FUNCTION rk_library_checkout_begin(p_grant text, p_realm bigint, p_key text, p_hash text,
                                          p_id text, p_owner text, p_work text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    v_account bigint := rk_booking_account(p_grant, p_realm);
    v_acc rk_identity_account;
    v_idem rk_library_loan_idempotency;
    v_owner rk_tenant;
    v_home rk_tenant;
    v_terms record;
    v_adapter bigint;
    v_patron text;
    v_live text;
BEGIN
    IF v_account IS NULL THEN
        RETURN json_build_object('outcome', 'login');
    END IF;
    SELECT * INTO v_idem FROM rk_library_loan_idempotency
     WHERE account_id = v_account AND method = 'checkout' AND key = p_key;
    IF FOUND THEN
        RETURN json_build_object('outcome', CASE WHEN v_idem.request_hash = p_hash
                                 THEN 'replay' ELSE 'reused' END, 'id', v_idem.loan_id);
    END IF;
    SELECT * INTO v_acc FROM rk_identity_account WHERE id = v_account;
    SELECT * INTO v_home FROM rk_tenant WHERE id = v_acc.tenant_id;
    SELECT * INTO v_owner FROM rk_tenant WHERE slug = p_owner OR code = p_owner;
    IF NOT FOUND THEN
        RETURN json_build_object('outcome', 'no_owner');
    END IF;
    SELECT * INTO v_terms FROM rk_library_loan_terms(v_home.id, v_owner.id, 'elibrary');
    IF NOT v_terms.eligible THEN
        RETURN json_build_object('outcome', 'not_eligible',
                                 'owner', json_build_object('ja', v_owner.name_ja, 'en', v_owner.name_en),
                                 'home', json_build_object('ja', v_home.name_ja, 'en', v_home.name_en));
    END IF;
    SELECT id INTO v_adapter FROM rk_adapter
     WHERE tenant_id = v_owner.id AND state = 'active'
       AND 'ADAPTER_CAPABILITY_ELIBRARY' = ANY (capabilities)
     ORDER BY id LIMIT 1;
    IF v_adapter IS NULL THEN
        RETURN json_build_object('outcome', 'no_adapter');
    END IF;
    SELECT patron_ref INTO v_patron FROM rk_library_patron
     WHERE account_id = v_account AND tenant_id = v_owner.id;
    IF v_patron IS NULL THEN
        RETURN json_build_object('outcome', 'not_linked');
    END IF;
    SELECT id INTO v_live FROM rk_library_loan
     WHERE account_id = v_account AND tenant_id = v_owner.id AND work_id = p_work AND elibrary
       AND state IN ('requested', 'checking_out', 'active', 'overdue', 'returning');
    IF v_live IS NOT NULL THEN
        RETURN json_build_object('outcome', 'already_on_loan', 'id', v_live);
    END IF;
    INSERT INTO rk_library_loan (id, account_id, tenant_id, adapter_id, patron_ref, elibrary,
                                 work_id, state, home_municipality, residency_class,
                                 agreement_id, agreement_version, lease_until)
    VALUES (p_id, v_account, v_owner.id, v_adapter, v_patron, true, p_work, 'requested',
            v_home.code, v_terms.residency_class, v_terms.agreement_id,
            v_terms.agreement_version, now() + interval '60 seconds');
    INSERT INTO rk_library_loan_idempotency (account_id, method, key, request_hash, loan_id)
    VALUES (v_account, 'checkout', p_key, p_hash, p_id);
    RETURN json_build_object('outcome', 'new', 'id', p_id, 'adapter', v_adapter,
                             'owner_code', v_owner.code);
END
$$;

-- Renew's and ElibraryReturn's first transaction (p_method 'renew' or 'return'): json
-- {"outcome": …, "id": …}: "login", "reused", "not_found" (no such loan of this account),
-- "print" (return: not an e-library loan — print items go back at a counter), "state" (not
-- ACTIVE / OVERDUE), "refused" (renew: this key's renewal was refused, "error"), "replay" (done),
-- or "call" (ask the owner: the row is RETURNING, or renewing > 0 with "renewal").
CREATE FUNCTION rk_library_loan_change_begin(p_grant text, p_realm bigint, p_method text,
                                             p_key text, p_hash text, p_id text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    v_account bigint := rk_booking_account(p_grant, p_realm);
    v_idem rk_library_loan_idempotency;
    v_l rk_library_loan;
    v_renewal integer;
BEGIN
    IF v_account IS NULL THEN
        RETURN json_build_object('outcome', 'login');
    END IF;
    SELECT * INTO v_idem FROM rk_library_loan_idempotency
     WHERE account_id = v_account AND method = p_method AND key = p_key;
    IF FOUND AND (v_idem.request_hash <> p_hash OR v_idem.loan_id <> p_id) THEN
        RETURN json_build_object('outcome', 'reused', 'id', v_idem.loan_id);
    END IF;
    SELECT * INTO v_l FROM rk_library_loan WHERE id = p_id AND account_id = v_account FOR UPDATE;
    IF NOT FOUND THEN
        RETURN json_build_object('outcome', 'not_found');
    END IF;
    IF p_method = 'return' THEN
        IF NOT v_l.elibrary THEN
            RETURN json_build_object('outcome', 'print', 'id', p_id);
        END IF;
        IF v_idem.key IS NULL THEN
            INSERT INTO rk_library_loan_idempotency (account_id, method, key, request_hash, loan_id)
            VALUES (v_account, 'return', p_key, p_hash, p_id);
        END IF;
        IF v_l.state = 'returning' THEN
            UPDATE rk_library_loan SET lease_until = now() + interval '60 seconds' WHERE id = p_id;
            RETURN json_build_object('outcome', 'call', 'id', p_id);
        END IF;
        IF v_l.state = 'returned' THEN
            RETURN json_build_object('outcome', 'replay', 'id', p_id);
        END IF;
        IF v_l.state NOT IN ('active', 'overdue') THEN
            RETURN json_build_object('outcome', 'state', 'id', p_id);
        END IF;
        UPDATE rk_library_loan SET state = 'returning', return_from = v_l.state,
                                   lease_until = now() + interval '60 seconds', updated_at = now()
         WHERE id = p_id;
        RETURN json_build_object('outcome', 'call', 'id', p_id);
    END IF;
    IF v_idem.key IS NOT NULL THEN
        IF v_l.renewing = v_idem.renewal THEN
            UPDATE rk_library_loan SET lease_until = now() + interval '60 seconds' WHERE id = p_id;
            RETURN json_build_object('outcome', 'call', 'id', p_id, 'renewal', v_idem.renewal);
        END IF;
        IF v_l.renew_refused_at = v_idem.renewal AND v_l.renew_refused <> '' THEN
            RETURN json_build_object('outcome', 'refused', 'id', p_id, 'error', v_l.renew_refused);
        END IF;
        RETURN json_build_object('outcome', 'replay', 'id', p_id);
    END IF;
    IF v_l.state NOT IN ('active', 'overdue') THEN
        RETURN json_build_object('outcome', 'state', 'id', p_id);
    END IF;
    v_renewal := CASE WHEN v_l.renewing > 0 THEN v_l.renewing ELSE v_l.renewals + 1 END;
    UPDATE rk_library_loan SET renewing = v_renewal, lease_until = now() + interval '60 seconds',
                               updated_at = now()
     WHERE id = p_id;
    INSERT INTO rk_library_loan_idempotency (account_id, method, key, request_hash, loan_id, renewal)
    VALUES (v_account, 'renew', p_key, p_hash, p_id, v_renewal);
    RETURN json_build_object('outcome', 'call', 'id', p_id, 'renewal', v_renewal);
END
$$;

-- ListMyLoans: the loans one owner (p_tenant, p_adapter) listed for patron p_patron of account
-- p_account (p_loans: OwnerLoan proto3 JSON, each with "workId" added) made rows or refreshed
-- theirs; rows no call is changing whose loan the owner no longer lists are RETURNED.
CREATE FUNCTION rk_library_loan_sync(p_account bigint, p_tenant bigint, p_adapter bigint,
                                     p_patron text, p_loans jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_home rk_tenant;
    v_terms record;
BEGIN
    SELECT t.* INTO v_home FROM rk_identity_account a JOIN rk_tenant t ON t.id = a.tenant_id
     WHERE a.id = p_account;
    SELECT * INTO v_terms FROM rk_library_loan_terms(v_home.id, p_tenant, 'library.loan');
    INSERT INTO rk_library_loan AS l (id, account_id, tenant_id, adapter_id, patron_ref, elibrary,
                                      work_id, record_id, work, item_id, branch_id, state,
                                      borrowed_on, due_date, renewals, max_renewals, reader_url,
                                      returned_at, owner_reference, home_municipality,
                                      residency_class, agreement_id, agreement_version)
    SELECT 'll_' || replace(gen_random_uuid()::text, '-', ''), p_account, p_tenant, p_adapter,
           p_patron, coalesce((o ->> 'elibrary')::boolean, false), left(coalesce(o ->> 'workId', ''), 1023),
           coalesce(o ->> 'recordId', ''), o -> 'work', coalesce(o ->> 'itemId', ''),
           coalesce(o ->> 'branchId', ''),
           CASE o ->> 'state' WHEN 'LOAN_STATE_OVERDUE' THEN 'overdue'
                              WHEN 'LOAN_STATE_RETURNED' THEN 'returned' ELSE 'active' END,
           coalesce(o ->> 'borrowedOn', ''), coalesce(o ->> 'dueDate', ''),
           coalesce((o ->> 'renewals')::int, 0), coalesce((o ->> 'maxRenewals')::int, 0),
           coalesce(o ->> 'readerUrl', ''), nullif(o ->> 'returnedAt', '')::timestamptz,
           o ->> 'ownerReference', v_home.code, v_terms.residency_class, v_terms.agreement_id,
           v_terms.agreement_version
      FROM jsonb_array_elements(p_loans) o
     WHERE coalesce(o ->> 'ownerReference', '') <> ''
        ON CONFLICT (tenant_id, patron_ref, owner_reference) WHERE owner_reference <> ''
        DO UPDATE SET state = EXCLUDED.state, due_date = EXCLUDED.due_date,
                      renewals = EXCLUDED.renewals, max_renewals = EXCLUDED.max_renewals,
                      reader_url = EXCLUDED.reader_url, returned_at = EXCLUDED.returned_at,
                      updated_at = now()
                WHERE l.state IN ('active', 'overdue', 'returned') AND l.renewing = 0
                  AND (l.state, l.due_date, l.renewals, l.reader_url)
                      IS DISTINCT FROM (EXCLUDED.state, EXCLUDED.due_date, EXCLUDED.renewals,
                                        EXCLUDED.reader_url);
    UPDATE rk_library_loan l SET state = 'returned', returned_at = coalesce(returned_at, now()),
                                 updated_at = now()
     WHERE l.account_id = p_account AND l.tenant_id = p_tenant AND l.patron_ref = p_patron
       AND l.state IN ('active', 'overdue') AND l.renewing = 0
       AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(p_loans) o
                        WHERE o ->> 'ownerReference' = l.owner_reference);
END
$$;

-- The recovery sweep's loans (hub/library/hold_sweep.c): at most p_limit rows no call is working
-- on — CHECKING_OUT, RETURNING, renewing (asked again with the same key), REQUESTED older than
-- a minute (now FAILED, LIBRARY_ERROR_OWNER_UNAVAILABLE) — under a new lease, FOR UPDATE SKIP
-- LOCKED. Each row answers the state it was claimed in.
CREATE FUNCTION rk_library_loan_sweep_claim(p_limit integer, p_lease_ms integer)
RETURNS TABLE (id text, was text)
LANGUAGE sql AS $$
    WITH c AS (
        SELECT l.id, l.state FROM rk_library_loan l
         WHERE (l.state IN ('requested', 'checking_out', 'returning') OR l.renewing > 0)
           AND l.lease_until <= now()
           AND (l.state <> 'requested' OR l.created_at <= now() - interval '1 minute')
         ORDER BY l.lease_until
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED
    )
    UPDATE rk_library_loan l
       SET lease_until = now() + p_lease_ms * interval '1 millisecond',
           state = CASE WHEN c.state = 'requested' THEN 'failed' ELSE c.state END,
           error = CASE WHEN c.state = 'requested' THEN 'LIBRARY_ERROR_OWNER_UNAVAILABLE'
                        ELSE l.error END,
           updated_at = CASE WHEN c.state = 'requested' THEN now() ELSE l.updated_at END
      FROM c WHERE l.id = c.id
    RETURNING l.id, c.state
$$;
