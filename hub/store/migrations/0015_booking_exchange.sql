-- 0015_booking_exchange: cross-city bookings in the exchange log (hub/exchange, migration 0013),
-- in the same transaction as the booking's own change, whichever hub path makes it (a call,
-- the recovery sweep). A booking is cross-city when the resident's home municipality is not
-- the owner. A trigger on rk_booking's state:
--   - entering CONFIRMING or CANCELLING a confirmed booking first checks that anchoring is not
--     overdue (rk_exchange_check_anchoring raises SQLSTATE RKA01): the owner is never asked
--     for a change the hub could not record (fail closed, reads go on);
--   - CONFIRMING → CONFIRMED and CANCELLING → CANCELLED (of a confirmed booking) record the
--     transaction (booking_confirmed / booking_cancelled: parties, the resident's pairwise id
--     towards the owner, the booking, its period, the fee, the agreement and version) and keep
--     the receipt's id on the row (Booking.receipt_id).
ALTER TABLE rk_booking ADD COLUMN receipt_id text;

CREATE FUNCTION rk_booking_exchange() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_home bigint;
BEGIN
    IF NEW.state = OLD.state THEN
        RETURN NEW;
    END IF;
    SELECT id INTO v_home FROM rk_tenant WHERE code = NEW.home_municipality;
    IF v_home IS NULL OR v_home = NEW.tenant_id THEN
        RETURN NEW;
    END IF;
    IF NEW.state = 'confirming' OR (NEW.state = 'cancelling' AND OLD.state = 'confirmed') THEN
        PERFORM rk_exchange_check_anchoring();
    ELSIF (NEW.state = 'confirmed' AND OLD.state = 'confirming')
          OR (NEW.state = 'cancelled' AND OLD.state = 'cancelling'
              AND NEW.cancel_from = 'confirmed') THEN
        NEW.receipt_id := rk_exchange_record(
            CASE NEW.state WHEN 'confirmed' THEN 'booking_confirmed' ELSE 'booking_cancelled' END,
            NEW.tenant_id, v_home, NEW.resident_subject,
            jsonb_build_object('type', 'booking', 'id', NEW.id),
            jsonb_build_object('start', lower(NEW.period), 'end', upper(NEW.period)),
            CASE WHEN NEW.state = 'confirmed' AND NEW.fee_yen IS NOT NULL
                 THEN jsonb_build_object('fee', NEW.fee_yen) END,
            NEW.agreement_id, NEW.agreement_version);
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER rk_booking_exchange BEFORE UPDATE OF state ON rk_booking
    FOR EACH ROW EXECUTE FUNCTION rk_booking_exchange();
