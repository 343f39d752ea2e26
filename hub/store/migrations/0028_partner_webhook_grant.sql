-- 0028_partner_webhook_grant: a webhook delivers a partner's feed only while the partner may read
-- it (issue 8). Pulling the feed (ListFeed, Subscribe) needs a grant covering the method; a
-- pushed feed must not reach further than a pulled one. So SetPartnerWebhook refuses a partner
-- without a grant covering renkei.v1.ExchangeService/ListFeed or Subscribe (SQLSTATE RKW01), and
-- claiming skips partners that lost it: revoking the grant stops the deliveries, as revoking the
-- partner does; granting it again resumes them from the stored cursor.

-- Whether p_partner's grants cover reading its feed (either method, or the whole service).
CREATE FUNCTION rk_partner_reads_feed(p_partner text) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM rk_partner_grant g
                    WHERE g.partner_id = p_partner
                      AND g.method IN ('renkei.v1.ExchangeService/ListFeed',
                                       'renkei.v1.ExchangeService/Subscribe',
                                       'renkei.v1.ExchangeService/*'))
$$;

CREATE OR REPLACE FUNCTION rk_partner_webhook_set(p_tenant text, p_id text, p_url text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v rk_partner;
BEGIN
    v := rk_partner_of(p_tenant, p_id);
    IF v.id IS NULL OR v.revoked_at IS NOT NULL THEN
        RETURN NULL;
    END IF;
    IF p_url <> '' AND NOT rk_partner_reads_feed(p_id) THEN
        RAISE EXCEPTION 'the partner has no grant to read its feed'
            USING ERRCODE = 'RKW01';
    END IF;
    UPDATE rk_partner SET webhook_url = p_url WHERE id = p_id AND webhook_url <> p_url;
    INSERT INTO rk_partner_webhook AS w (partner_id) VALUES (p_id)
        ON CONFLICT (partner_id) DO UPDATE
        SET failed_attempts = 0, next_attempt_at = now(), last_error = NULL, last_error_at = NULL
        WHERE v.webhook_url <> p_url;
    IF p_url <> '' THEN
        PERFORM pg_notify('rk_feed', v.tenant_id::text); -- wake the deliverers
    END IF;
    RETURN rk_partner_json(p_id);
END
$$;

CREATE OR REPLACE FUNCTION rk_partner_webhook_claim(p_holder text, p_lease_ms integer,
                                                    p_limit integer, p_partner text)
RETURNS TABLE (partner_id text, tenant_id bigint, url text, cursor bigint,
               failed_attempts integer)
LANGUAGE sql AS $$
    WITH due AS (
        SELECT w.partner_id FROM rk_partner_webhook w JOIN rk_partner p ON p.id = w.partner_id
         WHERE (p_partner IS NULL OR w.partner_id = p_partner)
           AND p.webhook_url <> '' AND p.revoked_at IS NULL
           AND rk_partner_reads_feed(p.id)
           AND w.next_attempt_at <= now()
           AND (w.lease_until IS NULL OR w.lease_until < now())
           AND EXISTS (SELECT 1 FROM rk_feed_item i
                        WHERE i.tenant_id = p.tenant_id AND i.modified > w.cursor)
         ORDER BY w.next_attempt_at LIMIT p_limit
           FOR UPDATE OF w SKIP LOCKED)
    UPDATE rk_partner_webhook w
       SET lease_holder = p_holder,
           lease_until = now() + p_lease_ms * interval '1 millisecond'
      FROM due, rk_partner p
     WHERE w.partner_id = due.partner_id AND p.id = w.partner_id
    RETURNING w.partner_id, p.tenant_id, p.webhook_url, w.cursor, w.failed_attempts
$$;
