-- 0027_partner_webhooks: delivering a partner's change feed to its webhook (issue 8).
--
-- The URL stays where migration 0019 put it (rk_partner.webhook_url, '' = none), so setting it
-- NOTIFYs rk_partner like any change of the partner. What changes at every delivery lives in a
-- table of its own, rk_partner_webhook, whose updates notify nobody: the delivery cursor (the
-- feed's `modified` of the last item the partner acknowledged with a 2xx), the failed attempts
-- since the last success, when to try again, the last error, and the lease of the hub process
-- delivering it now.
--
-- One process at a time delivers a partner: rk_partner_webhook_claim() takes due rows with
-- FOR UPDATE SKIP LOCKED and gives them a lease (holder and expiry) in the same statement; a
-- second hub skips them until the lease ends. The cursor advances only through
-- rk_partner_webhook_delivered(), and only for the lease holder and from the cursor it sent
-- after, so a batch is acknowledged once even if a lease expired under a slow receiver.

CREATE TABLE rk_partner_webhook (
    partner_id        text PRIMARY KEY REFERENCES rk_partner (id) ON DELETE CASCADE,
    cursor            bigint NOT NULL DEFAULT 0 CHECK (cursor >= 0),
    failed_attempts   integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    last_error        text CHECK (length(last_error) <= 300),
    last_error_at     timestamptz,
    last_delivered_at timestamptz,
    lease_holder      text,
    lease_until       timestamptz
);

-- A partner as the proto3 JSON of renkei.v1.Partner: migration 0019's, with its webhook.
CREATE OR REPLACE FUNCTION rk_partner_json(p_id text) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'id', p.id,
        'tenant', jsonb_build_object('code', t.code, 'slug', t.slug),
        'name', p.name,
        'clientId', p.client_id,
        'authMethod', 'PARTNER_AUTH_METHOD_PRIVATE_KEY_JWT',
        'grants', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                'method', g.method, 'readOnly', g.read_only,
                                'grantedAt', rk_booking_utc(g.granted_at)) ORDER BY g.method)
                              FROM rk_partner_grant g WHERE g.partner_id = p.id), '[]'),
        'rateLimitPerSecond', p.rate_limit_per_second,
        'webhookUrl', nullif(p.webhook_url, ''),
        'revoked', p.revoked_at IS NOT NULL,
        'createdAt', rk_booking_utc(p.created_at),
        'revokedAt', rk_booking_utc(p.revoked_at),
        'webhookCursor', CASE WHEN w.partner_id IS NOT NULL THEN w.cursor::text END,
        'webhookLastDeliveredAt', rk_booking_utc(w.last_delivered_at),
        'webhookFailedAttempts', nullif(w.failed_attempts, 0),
        'webhookLastError', w.last_error,
        'webhookLastErrorAt', rk_booking_utc(w.last_error_at),
        'webhookNextAttemptAt', CASE WHEN w.failed_attempts > 0
                                     THEN rk_booking_utc(w.next_attempt_at) END))
      FROM rk_partner p JOIN rk_tenant t ON t.id = p.tenant_id
      LEFT JOIN rk_partner_webhook w ON w.partner_id = p.id AND p.webhook_url <> ''
     WHERE p.id = p_id
$$;

-- SetPartnerWebhook: p_url ('' = off) for a live partner, as JSON; NULL: no such live partner.
-- A partner's first webhook starts from the beginning of its feed (as Subscribe without a
-- cursor does); turning it off and on again keeps the cursor, and a changed URL retries at
-- once.
CREATE FUNCTION rk_partner_webhook_set(p_tenant text, p_id text, p_url text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v rk_partner;
BEGIN
    v := rk_partner_of(p_tenant, p_id);
    IF v.id IS NULL OR v.revoked_at IS NOT NULL THEN
        RETURN NULL;
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

-- Up to p_limit partners (or just p_partner) with a webhook, live, due, not leased by anyone
-- and with feed items after their cursor: leased to p_holder for p_lease_ms. Rows another
-- transaction is claiming are skipped, not waited for.
CREATE FUNCTION rk_partner_webhook_claim(p_holder text, p_lease_ms integer, p_limit integer,
                                         p_partner text)
RETURNS TABLE (partner_id text, tenant_id bigint, url text, cursor bigint,
               failed_attempts integer)
LANGUAGE sql AS $$
    WITH due AS (
        SELECT w.partner_id FROM rk_partner_webhook w JOIN rk_partner p ON p.id = w.partner_id
         WHERE (p_partner IS NULL OR w.partner_id = p_partner)
           AND p.webhook_url <> '' AND p.revoked_at IS NULL
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

-- The batch after p_from up to p_to was acknowledged: the cursor moves and the lease ends.
-- false (nothing changed) when p_holder lost the lease or the cursor moved meanwhile.
CREATE FUNCTION rk_partner_webhook_delivered(p_partner text, p_holder text, p_from bigint,
                                             p_to bigint) RETURNS boolean
LANGUAGE sql AS $$
    WITH moved AS (
        UPDATE rk_partner_webhook
           SET cursor = p_to, failed_attempts = 0, next_attempt_at = now(),
               last_delivered_at = now(), lease_holder = NULL, lease_until = NULL
         WHERE partner_id = p_partner AND lease_holder = p_holder AND cursor = p_from
        RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM moved)
$$;

-- An attempt failed: counted, its error kept (without the URL's secrets: the caller's text),
-- the next one at now() + p_retry_ms, the lease ended.
CREATE FUNCTION rk_partner_webhook_failed(p_partner text, p_holder text, p_error text,
                                          p_retry_ms integer) RETURNS void
LANGUAGE sql AS $$
    UPDATE rk_partner_webhook
       SET failed_attempts = failed_attempts + 1, last_error = left(p_error, 300),
           last_error_at = now(), next_attempt_at = now() + p_retry_ms * interval '1 millisecond',
           lease_holder = NULL, lease_until = NULL
     WHERE partner_id = p_partner AND lease_holder = p_holder
$$;

-- Ends p_holder's lease without a delivery (nothing to send after all, the hub stops).
CREATE FUNCTION rk_partner_webhook_release(p_partner text, p_holder text) RETURNS void
LANGUAGE sql AS $$
    UPDATE rk_partner_webhook SET lease_holder = NULL, lease_until = NULL
     WHERE partner_id = p_partner AND lease_holder = p_holder
$$;
