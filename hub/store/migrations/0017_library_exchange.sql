-- 0017_library_exchange: cross-city library transactions in the exchange log (hub/exchange,
-- migration 0013), in the same transaction as the row's own change, whichever hub path makes
-- it (a call, the recovery sweep), as 0015 does for bookings. A hold, loan or card is
-- cross-city when the resident's home municipality is not the library's. The owner steps store
-- the resident's pairwise id towards the library (resident_subject) with the owner's outcome.
--   - entering PLACING or CANCELLING (holds), CHECKING_OUT or RETURNING or a renewal (loans)
--     first checks that anchoring is not overdue (rk_exchange_check_anchoring raises SQLSTATE
--     RKA01): the owner is never asked for a change the hub could not record;
--   - PLACING → WAITING / IN_TRANSIT / READY records hold_placed, CANCELLING → CANCELLED
--     hold_cancelled, CHECKING_OUT → ACTIVE loan_checked_out, a renewal answered (renewals up)
--     loan_renewed, RETURNING → RETURNED loan_returned, a card linked patron_linked — with the
--     agreement and version, keeping the receipt's id on the row (Hold.receipt_id,
--     Loan.receipt_id: the latest change's).
-- Loans lent and returned at a counter are the owner's own transactions, not the hub's: not
-- recorded. Rows whose account is gone (no pairwise id) are not recorded either.
ALTER TABLE rk_library_hold ADD COLUMN resident_subject text NOT NULL DEFAULT '',
                            ADD COLUMN receipt_id text;
ALTER TABLE rk_library_loan ADD COLUMN resident_subject text NOT NULL DEFAULT '',
                            ADD COLUMN receipt_id text;
ALTER TABLE rk_library_patron ADD COLUMN resident_subject text NOT NULL DEFAULT '',
                              ADD COLUMN receipt_id text;

-- The tenant of a home municipality code when it is not p_owner (a cross-city row), else NULL.
CREATE FUNCTION rk_library_cross_city(p_home text, p_owner bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT id FROM rk_tenant WHERE code = p_home AND id <> p_owner
$$;

CREATE FUNCTION rk_library_hold_exchange() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_home bigint := rk_library_cross_city(NEW.home_municipality, NEW.tenant_id);
BEGIN
    IF NEW.state = OLD.state OR v_home IS NULL THEN
        RETURN NEW;
    END IF;
    IF NEW.state IN ('placing', 'cancelling') THEN
        PERFORM rk_exchange_check_anchoring();
    ELSIF NEW.resident_subject <> '' AND ((OLD.state = 'placing'
          AND NEW.state IN ('waiting', 'in_transit', 'ready'))
          OR (OLD.state = 'cancelling' AND NEW.state = 'cancelled')) THEN
        NEW.receipt_id := rk_exchange_record(
            CASE NEW.state WHEN 'cancelled' THEN 'hold_cancelled' ELSE 'hold_placed' END,
            NEW.tenant_id, v_home, NEW.resident_subject,
            jsonb_build_object('type', 'hold', 'id', NEW.id), NULL, NULL,
            NEW.agreement_id, NEW.agreement_version);
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER rk_library_hold_exchange BEFORE UPDATE OF state ON rk_library_hold
    FOR EACH ROW EXECUTE FUNCTION rk_library_hold_exchange();

CREATE FUNCTION rk_library_loan_exchange() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_home bigint := rk_library_cross_city(NEW.home_municipality, NEW.tenant_id);
    v_kind text;
BEGIN
    IF v_home IS NULL THEN
        RETURN NEW;
    END IF;
    IF (NEW.state IN ('checking_out', 'returning') AND NEW.state <> OLD.state)
       OR (NEW.renewing > 0 AND OLD.renewing = 0) THEN
        PERFORM rk_exchange_check_anchoring();
        RETURN NEW;
    END IF;
    v_kind := CASE
        WHEN OLD.state = 'checking_out' AND NEW.state IN ('active', 'overdue') THEN 'loan_checked_out'
        WHEN OLD.state = 'returning' AND NEW.state = 'returned' THEN 'loan_returned'
        WHEN OLD.renewing > 0 AND NEW.renewing = 0 AND NEW.renewals > OLD.renewals THEN 'loan_renewed'
    END;
    IF v_kind IS NOT NULL AND NEW.resident_subject <> '' THEN
        NEW.receipt_id := rk_exchange_record(v_kind, NEW.tenant_id, v_home, NEW.resident_subject,
                                             jsonb_build_object('type', 'loan', 'id', NEW.id),
                                             NULL, NULL, NEW.agreement_id, NEW.agreement_version);
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER rk_library_loan_exchange BEFORE UPDATE OF state, renewing ON rk_library_loan
    FOR EACH ROW EXECUTE FUNCTION rk_library_loan_exchange();

-- A card linked (or linked again: another card, or the same after an unlink) at a library of
-- another municipality, under the 'library.loan' terms' agreement.
CREATE FUNCTION rk_library_patron_exchange() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_home bigint;
    v_terms record;
BEGIN
    IF NEW.resident_subject = '' OR (TG_OP = 'UPDATE'
       AND NEW.patron_ref IS NOT DISTINCT FROM OLD.patron_ref) THEN
        RETURN NEW;
    END IF;
    SELECT tenant_id INTO v_home FROM rk_identity_account WHERE id = NEW.account_id;
    IF v_home IS NULL OR v_home = NEW.tenant_id THEN
        RETURN NEW;
    END IF;
    SELECT * INTO v_terms FROM rk_library_loan_terms(v_home, NEW.tenant_id, 'library.loan');
    NEW.receipt_id := rk_exchange_record('patron_linked', NEW.tenant_id, v_home,
                                         NEW.resident_subject,
                                         jsonb_build_object('type', 'patron_link',
                                                            'id', NEW.resident_subject),
                                         NULL, NULL, v_terms.agreement_id,
                                         v_terms.agreement_version);
    RETURN NEW;
END
$$;

CREATE TRIGGER rk_library_patron_exchange BEFORE INSERT OR UPDATE ON rk_library_patron
    FOR EACH ROW EXECUTE FUNCTION rk_library_patron_exchange();
