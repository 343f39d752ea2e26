-- 0020: library holds in the change feeds (issue 8), beside bookings and facilities (0019).
--
-- A hold enters the feeds of the owner and of the resident's home city once the owner has it
-- (waiting, in transit, ready, fulfilled, cancelled, expired, or failed after placing), as the
-- proto3 JSON of renkei.v1.Hold. As for bookings, the owner sees the resident's pairwise id
-- towards it and its own hold number; the home city sees neither.

ALTER TABLE rk_feed_item DROP CONSTRAINT rk_feed_item_kind_check;
ALTER TABLE rk_feed_item ADD CONSTRAINT rk_feed_item_kind_check
    CHECK (kind IN ('booking', 'facility', 'hold'));

CREATE FUNCTION rk_feed_hold_json(h rk_library_hold, p_owner boolean) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'id', h.id,
        'work', h.work,
        'owner', jsonb_build_object('code', t.code, 'slug', t.slug),
        'recordId', nullif(h.record_id, ''),
        'pickupBranch', jsonb_build_object(
            'municipality', jsonb_build_object('code', pt.code, 'slug', pt.slug),
            'branchId', h.pickup_branch_id,
            'name', jsonb_build_object('ja', h.pickup_branch_ja, 'en', h.pickup_branch_en),
            'pickupPoint', true),
        'state', 'HOLD_STATE_' || upper(h.state),
        'queuePosition', h.queue_position,
        'expiresAt', rk_booking_utc(h.expires_at),
        'placedAt', rk_booking_utc(h.placed_at),
        'ownerReference', CASE WHEN p_owner THEN nullif(h.owner_reference, '') END,
        'agreement', CASE WHEN h.agreement_id IS NOT NULL
                          THEN jsonb_build_object('agreementId', h.agreement_id::text,
                                                  'version', h.agreement_version) END,
        'residentPairwiseId', CASE WHEN p_owner THEN nullif(h.resident_subject, '') END,
        'error', nullif(h.error, ''),
        'receiptId', h.receipt_id))
      FROM rk_tenant t, rk_tenant pt WHERE t.id = h.tenant_id AND pt.id = h.pickup_tenant_id
$$;

CREATE FUNCTION rk_feed_hold() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r rk_library_hold;
    v_home bigint;
    v_tenant bigint;
BEGIN
    r := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    IF TG_OP <> 'DELETE' AND (r.state IN ('requested', 'placing', 'cancelling')
                              OR (TG_OP = 'INSERT' AND r.state = 'failed')
                              OR (r.state = 'failed' AND OLD.state IN ('requested', 'placing'))
                              OR (TG_OP = 'UPDATE' AND OLD.state = NEW.state
                                  AND OLD.queue_position = NEW.queue_position
                                  AND OLD.expires_at IS NOT DISTINCT FROM NEW.expires_at
                                  AND OLD.receipt_id IS NOT DISTINCT FROM NEW.receipt_id)) THEN
        RETURN NULL;
    END IF;
    SELECT id INTO v_home FROM rk_tenant WHERE code = r.home_municipality;
    FOR v_tenant IN SELECT DISTINCT x FROM unnest(ARRAY[r.tenant_id, v_home]) x
                     WHERE x IS NOT NULL ORDER BY x LOOP
        PERFORM rk_feed_put(v_tenant, 'hold', r.id,
                            CASE WHEN TG_OP = 'DELETE' THEN NULL
                                 ELSE rk_feed_hold_json(r, v_tenant = r.tenant_id) END);
    END LOOP;
    RETURN NULL;
END
$$;
CREATE TRIGGER rk_feed_hold AFTER INSERT OR UPDATE OR DELETE ON rk_library_hold
    FOR EACH ROW EXECUTE FUNCTION rk_feed_hold();
