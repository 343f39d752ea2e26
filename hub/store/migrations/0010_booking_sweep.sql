-- 0010_booking_sweep: the booking broker's recovery sweep (hub/facility/booking_sweep.c).
--
-- rk_booking_sweep_claim takes at most p_limit rows that no call is working on (lease_until
-- past or NULL) and that need the sweep: CONFIRMING and CANCELLING (a call that ended before
-- the owner's answer was stored), HELD past its hold expiry (now EXPIRED; the hub releases it
-- at the owner), REQUESTED older than a minute (a crash between the row and the owner's
-- HoldSlot: now FAILED with BOOKING_ERROR_OWNER_UNAVAILABLE; the hub releases any hold placed).
-- FOR UPDATE SKIP LOCKED and the new lease keep every other hub's sweep off the claimed rows.
-- Each row answers the state it was claimed in (was) and what the owner's call needs.
CREATE FUNCTION rk_booking_sweep_claim(p_limit integer, p_lease_ms integer)
RETURNS TABLE (id text, was text, adapter_id bigint, owner_reference text,
               home_municipality text, owner_code text, uid text, tenant_id bigint,
               resident_subject text, accepted_fee_yen bigint, cancel_reason text)
LANGUAGE sql AS $$
    WITH c AS (
        SELECT b.id, b.state
          FROM rk_booking b
         WHERE b.state IN ('requested', 'held', 'confirming', 'cancelling')
           AND (b.lease_until IS NULL OR b.lease_until <= now())
           AND (b.state IN ('confirming', 'cancelling')
                OR (b.state = 'held' AND b.hold_expires_at <= now())
                OR (b.state = 'requested' AND b.created_at <= now() - interval '1 minute'))
         ORDER BY b.lease_until NULLS FIRST
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED
    ), u AS (
        UPDATE rk_booking b
           SET lease_until = now() + p_lease_ms * interval '1 millisecond',
               state = CASE c.state WHEN 'held' THEN 'expired'
                                    WHEN 'requested' THEN 'failed' ELSE c.state END,
               error = CASE WHEN c.state = 'requested' THEN 'BOOKING_ERROR_OWNER_UNAVAILABLE'
                            ELSE b.error END,
               hold_expires_at = CASE WHEN c.state IN ('held', 'requested') THEN NULL
                                      ELSE b.hold_expires_at END,
               updated_at = CASE WHEN c.state IN ('held', 'requested') THEN now()
                                 ELSE b.updated_at END
          FROM c
         WHERE b.id = c.id
        RETURNING b.id, c.state AS was, b.adapter_id, b.owner_reference, b.home_municipality,
                  b.tenant_id, b.account_id, b.resident_subject, b.accepted_fee_yen,
                  b.cancel_reason
    )
    SELECT u.id, u.was, u.adapter_id, u.owner_reference, u.home_municipality, t.code,
           coalesce(a.uid, ''), u.tenant_id, u.resident_subject, u.accepted_fee_yen,
           u.cancel_reason
      FROM u JOIN rk_tenant t ON t.id = u.tenant_id
      LEFT JOIN rk_identity_account a ON a.id = u.account_id
$$;
