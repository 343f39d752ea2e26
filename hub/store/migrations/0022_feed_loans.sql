-- 0022: library loans in the change feeds (issue 8), beside bookings, facilities (0019) and
-- holds (0020).
--
-- A loan enters the feeds of the lending city and of the borrower's home city once the owner
-- has lent it (active, overdue, returned) and again at each renewal, new due date or receipt,
-- as the proto3 JSON of renkei.v1.Loan. The e-library reader URL (a short-lived link for the
-- resident alone) never enters a feed; the owner's reference only the owner's.

ALTER TABLE rk_feed_item DROP CONSTRAINT rk_feed_item_kind_check;
ALTER TABLE rk_feed_item ADD CONSTRAINT rk_feed_item_kind_check
    CHECK (kind IN ('booking', 'facility', 'hold', 'loan'));

CREATE FUNCTION rk_feed_loan_json(l rk_library_loan, p_owner boolean) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'id', l.id,
        'work', l.work,
        'owner', jsonb_build_object('code', t.code, 'slug', t.slug),
        'branchId', nullif(l.branch_id, ''),
        'itemId', nullif(l.item_id, ''),
        'state', 'LOAN_STATE_' || upper(l.state),
        'borrowedOn', nullif(l.borrowed_on, ''),
        'dueDate', nullif(l.due_date, ''),
        'renewals', l.renewals,
        'maxRenewals', l.max_renewals,
        'elibrary', l.elibrary,
        'returnedAt', rk_booking_utc(l.returned_at),
        'ownerReference', CASE WHEN p_owner THEN nullif(l.owner_reference, '') END,
        'agreement', CASE WHEN l.agreement_id IS NOT NULL
                          THEN jsonb_build_object('agreementId', l.agreement_id::text,
                                                  'version', l.agreement_version) END,
        'receiptId', l.receipt_id))
      FROM rk_tenant t WHERE t.id = l.tenant_id
$$;

CREATE FUNCTION rk_feed_loan() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r rk_library_loan;
    v_home bigint;
    v_tenant bigint;
BEGIN
    r := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    IF TG_OP <> 'DELETE' AND (r.state NOT IN ('active', 'overdue', 'returned')
                              OR (TG_OP = 'UPDATE' AND OLD.state = NEW.state
                                  AND OLD.renewals = NEW.renewals
                                  AND OLD.due_date = NEW.due_date
                                  AND OLD.receipt_id IS NOT DISTINCT FROM NEW.receipt_id)) THEN
        RETURN NULL;
    END IF;
    SELECT id INTO v_home FROM rk_tenant WHERE code = r.home_municipality;
    FOR v_tenant IN SELECT DISTINCT x FROM unnest(ARRAY[r.tenant_id, v_home]) x
                     WHERE x IS NOT NULL ORDER BY x LOOP
        PERFORM rk_feed_put(v_tenant, 'loan', r.id,
                            CASE WHEN TG_OP = 'DELETE' THEN NULL
                                 ELSE rk_feed_loan_json(r, v_tenant = r.tenant_id) END);
    END LOOP;
    RETURN NULL;
END
$$;
CREATE TRIGGER rk_feed_loan AFTER INSERT OR UPDATE OR DELETE ON rk_library_loan
    FOR EACH ROW EXECUTE FUNCTION rk_feed_loan();
