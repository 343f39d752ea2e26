-- 0014_library_holds: the library broker's rows (hub/library): the residents' library cards
-- linked to their accounts, and their holds on the state machine of DESIGN.md "Booking and loan
-- broker": requested → placing → waiting | in_transit | ready (| failed); waiting | in_transit |
-- ready → cancelling → cancelled (a refused cancellation goes back: cancel_from).
--
-- A patron link keeps only what the owner's VerifyPatron answered: its opaque patron id, the
-- masked card number, the card's expiry and limits — never a card number or a PIN.
CREATE TABLE rk_library_patron (
    account_id  bigint NOT NULL REFERENCES rk_identity_account (id) ON DELETE CASCADE,
    tenant_id   bigint NOT NULL REFERENCES rk_tenant (id),
    patron_ref  text NOT NULL CHECK (length(patron_ref) BETWEEN 1 AND 200),
    card_masked text NOT NULL DEFAULT '' CHECK (length(card_masked) <= 64),
    method      text NOT NULL CHECK (method IN ('card_and_pin', 'certificate', 'pupil_id')),
    expires_on  text NOT NULL DEFAULT '' CHECK (expires_on ~ '^([0-9]{4}-[0-9]{2}-[0-9]{2})?$'),
    loan_limit  integer NOT NULL DEFAULT 0,
    hold_limit  integer NOT NULL DEFAULT 0,
    linked_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, tenant_id)
);

-- One hold of one account at one owning library (tenant_id), for pickup at a branch of
-- pickup_tenant_id. The owner knows it by the hold id (the idempotency key of PlaceHold and
-- CancelHold) and answers owner_reference. lease_until keeps the sweep off a row a call is
-- working on. Holds outlive the account (account_id becomes NULL).
CREATE TABLE rk_library_hold (
    id                 text PRIMARY KEY CHECK (id ~ '^lh_[0-9a-f]{32}$'),
    account_id         bigint REFERENCES rk_identity_account (id) ON DELETE SET NULL,
    tenant_id          bigint NOT NULL REFERENCES rk_tenant (id),
    adapter_id         bigint NOT NULL,
    patron_ref         text NOT NULL,
    work_id            text NOT NULL CHECK (length(work_id) BETWEEN 1 AND 1023),
    record_id          text NOT NULL DEFAULT '',
    work               jsonb,                           -- the Work (proto3 JSON), for display
    pickup_tenant_id   bigint NOT NULL REFERENCES rk_tenant (id),
    pickup_branch_id   text NOT NULL CHECK (length(pickup_branch_id) BETWEEN 1 AND 64),
    pickup_branch_ja   text NOT NULL DEFAULT '',
    pickup_branch_en   text NOT NULL DEFAULT '',
    state              text NOT NULL CHECK (state IN ('requested', 'placing', 'waiting',
                           'in_transit', 'ready', 'fulfilled', 'cancelling', 'cancelled',
                           'expired', 'failed')),
    queue_position     integer NOT NULL DEFAULT 0,
    expires_at         timestamptz,
    placed_at          timestamptz,
    owner_reference    text NOT NULL DEFAULT '',
    error              text NOT NULL DEFAULT '',        -- LibraryError name when FAILED
    home_municipality  text NOT NULL,
    residency_class    text NOT NULL CHECK (residency_class IN ('resident', 'partner_area')),
    agreement_id       bigint,
    agreement_version  integer,
    cancel_from        text NOT NULL DEFAULT ''
                       CHECK (cancel_from IN ('', 'waiting', 'in_transit', 'ready')),
    lease_until        timestamptz NOT NULL DEFAULT now(),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rk_library_hold_account ON rk_library_hold (account_id, created_at DESC);
CREATE INDEX rk_library_hold_pending ON rk_library_hold (state, lease_until)
    WHERE state IN ('requested', 'placing', 'cancelling');
-- One live hold per account, owner and work.
CREATE UNIQUE INDEX rk_library_hold_live ON rk_library_hold (account_id, tenant_id, work_id)
    WHERE state IN ('requested', 'placing', 'waiting', 'in_transit', 'ready', 'cancelling');

-- A client's idempotency key per account and method: the request it came with (a hash) and the
-- hold it made or acted on.
CREATE TABLE rk_library_idempotency (
    account_id   bigint NOT NULL REFERENCES rk_identity_account (id) ON DELETE CASCADE,
    method       text NOT NULL CHECK (method IN ('hold', 'cancel')),
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 128),
    request_hash text NOT NULL,
    hold_id      text NOT NULL REFERENCES rk_library_hold (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, method, key)
);

-- PlaceHold's first transaction, on the caller's terms (rk_resident_terms, 'library.hold').
-- Answers json {"outcome": …}: "login" (no live grant), "replay" / "reused" (the key's hold,
-- "id"), "no_owner" / "no_pickup" (no such municipality), "not_eligible" (no agreement of the
-- owner covers the caller's home: "owner", "home" names), "pickup_not_allowed" ("rule": "branch"
-- — the agreement's pickup_branches do not list it —, or "city" — neither the owner nor the
-- caller's home; "owner", "pickup" names), "no_adapter" (the owner has no active holds
-- adapter), "not_linked" (no card linked there; "certificate": the account logged in with the
-- certificate, "tenant" its id), "already_held" ("id": the live hold of this work there), or
-- "new" ("id": a REQUESTED row; its adapter, pickup code).
CREATE FUNCTION rk_library_hold_begin(p_grant text, p_realm bigint, p_key text, p_hash text,
                                      p_id text, p_owner text, p_pickup text, p_branch text,
                                      p_work text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    v_account bigint := rk_booking_account(p_grant, p_realm);
    v_acc rk_identity_account;
    v_idem rk_library_idempotency;
    v_owner rk_tenant;
    v_home rk_tenant;
    v_pickup rk_tenant;
    v_terms record;
    v_branches jsonb;
    v_adapter bigint;
    v_patron text;
    v_live text;
BEGIN
    IF v_account IS NULL THEN
        RETURN json_build_object('outcome', 'login');
    END IF;
    SELECT * INTO v_idem FROM rk_library_idempotency
     WHERE account_id = v_account AND method = 'hold' AND key = p_key;
    IF FOUND THEN
        RETURN json_build_object('outcome', CASE WHEN v_idem.request_hash = p_hash
                                 THEN 'replay' ELSE 'reused' END, 'id', v_idem.hold_id);
    END IF;
    SELECT * INTO v_acc FROM rk_identity_account WHERE id = v_account;
    SELECT * INTO v_home FROM rk_tenant WHERE id = v_acc.tenant_id;
    SELECT * INTO v_owner FROM rk_tenant WHERE slug = p_owner OR code = p_owner;
    IF NOT FOUND THEN
        RETURN json_build_object('outcome', 'no_owner');
    END IF;
    IF p_pickup = '' THEN
        v_pickup := v_owner;
    ELSE
        SELECT * INTO v_pickup FROM rk_tenant WHERE slug = p_pickup OR code = p_pickup;
        IF NOT FOUND THEN
            RETURN json_build_object('outcome', 'no_pickup');
        END IF;
    END IF;
    SELECT * INTO v_terms FROM rk_resident_terms(v_home.id, 'library.hold') rt
     WHERE rt.tenant_id = v_owner.id;
    IF NOT v_terms.eligible THEN
        RETURN json_build_object('outcome', 'not_eligible',
                                 'owner', json_build_object('ja', v_owner.name_ja, 'en', v_owner.name_en),
                                 'home', json_build_object('ja', v_home.name_ja, 'en', v_home.name_en));
    END IF;
    IF v_pickup.id = v_owner.id AND v_terms.residency_class = 'partner_area' THEN
        SELECT a.terms -> 'partner_area' -> 'pickup_branches' INTO v_branches
          FROM rk_agreement a WHERE a.id = v_terms.agreement_id;
        IF NOT coalesce(v_branches ? '*' OR v_branches ? p_branch, false) THEN
            RETURN json_build_object('outcome', 'pickup_not_allowed', 'rule', 'branch',
                                     'owner', json_build_object('ja', v_owner.name_ja, 'en', v_owner.name_en),
                                     'pickup', json_build_object('ja', v_pickup.name_ja, 'en', v_pickup.name_en));
        END IF;
    ELSIF v_pickup.id <> v_owner.id AND v_pickup.id <> v_home.id THEN
        RETURN json_build_object('outcome', 'pickup_not_allowed', 'rule', 'city',
                                 'owner', json_build_object('ja', v_owner.name_ja, 'en', v_owner.name_en),
                                 'pickup', json_build_object('ja', v_pickup.name_ja, 'en', v_pickup.name_en));
    END IF;
    SELECT id INTO v_adapter FROM rk_adapter
     WHERE tenant_id = v_owner.id AND state = 'active'
       AND 'ADAPTER_CAPABILITY_LIBRARY_HOLDS' = ANY (capabilities)
     ORDER BY id LIMIT 1;
    IF v_adapter IS NULL THEN
        RETURN json_build_object('outcome', 'no_adapter');
    END IF;
    SELECT patron_ref INTO v_patron FROM rk_library_patron
     WHERE account_id = v_account AND tenant_id = v_owner.id;
    IF v_patron IS NULL THEN
        RETURN json_build_object('outcome', 'not_linked', 'tenant', v_owner.id,
                                 'certificate', v_acc.residency_verified = 'certificate');
    END IF;
    SELECT id INTO v_live FROM rk_library_hold
     WHERE account_id = v_account AND tenant_id = v_owner.id AND work_id = p_work
       AND state IN ('requested', 'placing', 'waiting', 'in_transit', 'ready', 'cancelling');
    IF v_live IS NOT NULL THEN
        RETURN json_build_object('outcome', 'already_held', 'id', v_live);
    END IF;
    INSERT INTO rk_library_hold (id, account_id, tenant_id, adapter_id, patron_ref, work_id,
                                 pickup_tenant_id, pickup_branch_id, state, home_municipality,
                                 residency_class, agreement_id, agreement_version, lease_until)
    VALUES (p_id, v_account, v_owner.id, v_adapter, v_patron, p_work, v_pickup.id, p_branch,
            'requested', v_home.code, v_terms.residency_class, v_terms.agreement_id,
            v_terms.agreement_version, now() + interval '60 seconds');
    INSERT INTO rk_library_idempotency (account_id, method, key, request_hash, hold_id)
    VALUES (v_account, 'hold', p_key, p_hash, p_id);
    RETURN json_build_object('outcome', 'new', 'id', p_id, 'adapter', v_adapter,
                             'owner_code', v_owner.code, 'pickup_code', v_pickup.code);
END
$$;

-- CancelHold's first transaction: json {"outcome": …, "id": …}: "cancel" (the row is CANCELLING
-- now, or already was: call the owner), "replay" (already CANCELLED), "reused", "login",
-- "not_found" (no such hold of this account), "state" (not WAITING / IN_TRANSIT / READY).
CREATE FUNCTION rk_library_cancel_begin(p_grant text, p_realm bigint, p_key text, p_hash text,
                                        p_id text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    v_account bigint := rk_booking_account(p_grant, p_realm);
    v_idem rk_library_idempotency;
    v_h rk_library_hold;
BEGIN
    IF v_account IS NULL THEN
        RETURN json_build_object('outcome', 'login');
    END IF;
    SELECT * INTO v_idem FROM rk_library_idempotency
     WHERE account_id = v_account AND method = 'cancel' AND key = p_key;
    IF FOUND AND (v_idem.request_hash <> p_hash OR v_idem.hold_id <> p_id) THEN
        RETURN json_build_object('outcome', 'reused', 'id', v_idem.hold_id);
    END IF;
    SELECT * INTO v_h FROM rk_library_hold WHERE id = p_id AND account_id = v_account FOR UPDATE;
    IF NOT FOUND THEN
        RETURN json_build_object('outcome', 'not_found');
    END IF;
    IF v_idem.key IS NULL THEN
        INSERT INTO rk_library_idempotency (account_id, method, key, request_hash, hold_id)
        VALUES (v_account, 'cancel', p_key, p_hash, p_id);
    END IF;
    IF v_h.state = 'cancelling' THEN
        UPDATE rk_library_hold SET lease_until = now() + interval '60 seconds' WHERE id = p_id;
        RETURN json_build_object('outcome', 'cancel', 'id', p_id);
    END IF;
    IF v_h.state = 'cancelled' THEN
        RETURN json_build_object('outcome', 'replay', 'id', p_id);
    END IF;
    IF v_h.state NOT IN ('waiting', 'in_transit', 'ready') THEN
        RETURN json_build_object('outcome', 'state', 'id', p_id);
    END IF;
    UPDATE rk_library_hold SET state = 'cancelling', cancel_from = v_h.state,
                               lease_until = now() + interval '60 seconds', updated_at = now()
     WHERE id = p_id;
    RETURN json_build_object('outcome', 'cancel', 'id', p_id);
END
$$;

-- The recovery sweep (hub/library/hold_sweep.c): at most p_limit rows no call is working on
-- that need it — PLACING and CANCELLING (a call that ended before the owner's answer was
-- stored: the owner is asked again with the same key), REQUESTED older than a minute (a crash
-- before the owner was asked: now FAILED, LIBRARY_ERROR_OWNER_UNAVAILABLE) — under a new
-- lease, FOR UPDATE SKIP LOCKED. Each row answers the state it was claimed in.
CREATE FUNCTION rk_library_sweep_claim(p_limit integer, p_lease_ms integer)
RETURNS TABLE (id text, was text)
LANGUAGE sql AS $$
    WITH c AS (
        SELECT h.id, h.state FROM rk_library_hold h
         WHERE h.state IN ('requested', 'placing', 'cancelling')
           AND h.lease_until <= now()
           AND (h.state <> 'requested' OR h.created_at <= now() - interval '1 minute')
         ORDER BY h.lease_until
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED
    )
    UPDATE rk_library_hold h
       SET lease_until = now() + p_lease_ms * interval '1 millisecond',
           state = CASE WHEN c.state = 'requested' THEN 'failed' ELSE c.state END,
           error = CASE WHEN c.state = 'requested' THEN 'LIBRARY_ERROR_OWNER_UNAVAILABLE'
                        ELSE h.error END,
           updated_at = CASE WHEN c.state = 'requested' THEN now() ELSE h.updated_at END
      FROM c WHERE h.id = c.id
    RETURNING h.id, c.state
$$;
