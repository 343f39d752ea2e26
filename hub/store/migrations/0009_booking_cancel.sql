-- 0009_booking_cancel: CancelBooking and ListMyBookings of the booking broker
-- (hub/facility/booking.c).
--
-- A cancellation moves HELD or CONFIRMED to CANCELLING first (row first), then asks the owner;
-- the row remembers the state it came from (cancel_from: an owner's refusal puts it back) and
-- the resident's reason (cancel_reason: a resumed call sends the owner the very same request,
-- so the owner answers the repeated key once). CANCELLED rows leave the exclusion constraint.
ALTER TABLE rk_booking
    ADD COLUMN cancel_from   text NOT NULL DEFAULT '' CHECK (cancel_from IN ('', 'held', 'confirmed')),
    ADD COLUMN cancel_reason text NOT NULL DEFAULT '';

-- CancelBooking's first transaction: json {"outcome": …, "id": …}: "cancel" (the row is
-- CANCELLING now, or already was: call the owner), "replay" (already CANCELLED: answer the
-- row), "reused", "login", "not_found" (no such booking of this account), "closed" (a
-- CONFIRMED booking past its cancellation deadline), "state" (not HELD/CONFIRMED/CANCELLING/
-- CANCELLED; a HELD row whose hold ran out becomes EXPIRED).
CREATE FUNCTION rk_booking_cancel(p_grant text, p_tenant bigint, p_key text, p_hash text,
                                  p_id text, p_reason text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    v_account bigint := rk_booking_account(p_grant, p_tenant);
    v_idem rk_booking_idempotency;
    v_b rk_booking;
BEGIN
    IF v_account IS NULL THEN
        RETURN json_build_object('outcome', 'login');
    END IF;
    SELECT * INTO v_idem FROM rk_booking_idempotency
     WHERE account_id = v_account AND method = 'cancel' AND key = p_key;
    IF FOUND AND (v_idem.request_hash <> p_hash OR v_idem.booking_id <> p_id) THEN
        RETURN json_build_object('outcome', 'reused', 'id', v_idem.booking_id);
    END IF;
    SELECT * INTO v_b FROM rk_booking WHERE id = p_id AND account_id = v_account FOR UPDATE;
    IF NOT FOUND THEN
        RETURN json_build_object('outcome', 'not_found');
    END IF;
    IF v_idem.key IS NULL THEN
        INSERT INTO rk_booking_idempotency (account_id, method, key, request_hash, booking_id)
        VALUES (v_account, 'cancel', p_key, p_hash, p_id);
    END IF;
    IF v_b.state = 'cancelling' THEN
        UPDATE rk_booking SET lease_until = now() + interval '60 seconds' WHERE id = p_id;
        RETURN json_build_object('outcome', 'cancel', 'id', p_id);
    END IF;
    IF v_b.state = 'cancelled' THEN
        RETURN json_build_object('outcome', 'replay', 'id', p_id);
    END IF;
    IF v_b.state = 'held' AND v_b.hold_expires_at <= now() THEN
        UPDATE rk_booking SET state = 'expired', hold_expires_at = NULL, updated_at = now()
         WHERE id = p_id;
        RETURN json_build_object('outcome', 'state', 'id', p_id);
    END IF;
    IF v_b.state NOT IN ('held', 'confirmed') THEN
        RETURN json_build_object('outcome', 'state', 'id', p_id);
    END IF;
    IF v_b.state = 'confirmed' AND v_b.cancellation_deadline IS NOT NULL
       AND v_b.cancellation_deadline < now() THEN
        RETURN json_build_object('outcome', 'closed', 'id', p_id);
    END IF;
    UPDATE rk_booking SET state = 'cancelling', cancel_from = v_b.state, cancel_reason = p_reason,
                          lease_until = now() + interval '60 seconds', updated_at = now()
     WHERE id = p_id;
    RETURN json_build_object('outcome', 'cancel', 'id', p_id);
END
$$;
