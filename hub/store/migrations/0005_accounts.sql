-- 0005_accounts: residents and staff, SSO sessions, consents, and the authorization code
-- flow's grants, codes and refresh tokens; clients gain what that flow needs.

-- A client authenticates with a secret (client_secret_basic or _post: both are accepted for a
-- secret client), with a signed JWT (private_key_jwt), or not at all (none: a public client
-- such as the portal, which must use PKCE). subject_type pairwise (the default) gives each
-- sector its own sub for the same resident; the sector is the client's tenant unless
-- sector_identifier names another. service is what agreements between cities name
-- ("facility.booking", "library.loan", "sso"): a resident of another city is admitted only
-- when an agreement of their home city with the client's covers it; NULL admits only the
-- client tenant's own residents.
ALTER TABLE rk_identity_client
    ALTER COLUMN secret_sha256 DROP NOT NULL,
    ADD COLUMN auth_method text NOT NULL DEFAULT 'client_secret_basic'
        CHECK (auth_method IN ('client_secret_basic', 'client_secret_post', 'private_key_jwt',
                               'none')),
    ADD COLUMN redirect_uris text[] NOT NULL DEFAULT '{}',
    ADD COLUMN post_logout_redirect_uris text[] NOT NULL DEFAULT '{}',
    ADD COLUMN subject_type text NOT NULL DEFAULT 'pairwise'
        CHECK (subject_type IN ('pairwise', 'public')),
    ADD COLUMN sector_identifier text CHECK (length(sector_identifier) BETWEEN 1 AND 255),
    ADD COLUMN first_party boolean NOT NULL DEFAULT false,
    ADD COLUMN service text CHECK (service ~ '^[a-z]+(\.[a-z]+)*$'),
    ADD COLUMN refresh_token_ttl integer NOT NULL DEFAULT 2592000
        CHECK (refresh_token_ttl BETWEEN 3600 AND 31536000),
    ADD COLUMN backchannel_logout_uri text CHECK (length(backchannel_logout_uri) <= 512),
    ADD CONSTRAINT rk_identity_client_secret_when_needed
        CHECK ((auth_method IN ('client_secret_basic', 'client_secret_post'))
               = (secret_sha256 IS NOT NULL)),
    ADD CONSTRAINT rk_identity_client_public_no_credentials
        CHECK (auth_method <> 'none' OR NOT 'client_credentials' = ANY (grant_types));

-- One account per person, with a home city. Usernames are global (a resident logs in with the
-- same name at every city) and lower case. uid is random and never shown: the root of the
-- pairwise subjects, so a username change does not change them. Staff roles apply in the
-- home tenant only. cert_key binds a certificate (issuer and subject) for certificate login.
CREATE TABLE rk_identity_account (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uid                 text NOT NULL UNIQUE CHECK (uid ~ '^[A-Za-z0-9_-]{22}$'),
    tenant_id           bigint NOT NULL REFERENCES rk_tenant (id),
    username            text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
    password_hash       text CHECK (password_hash LIKE '$argon2id$%'),
    display_name        text CHECK (length(display_name) BETWEEN 1 AND 200),
    email               text CHECK (length(email) BETWEEN 3 AND 254),
    residency_verified  text NOT NULL DEFAULT 'registration'
        CHECK (residency_verified IN ('self_declared', 'registration', 'certificate')),
    staff_roles         text[] NOT NULL DEFAULT '{}'
        CHECK (staff_roles <@ ARRAY['tenant-admin', 'facility-manager', 'librarian',
                                    'auditor']),
    cert_key            text UNIQUE CHECK (cert_key ~ '^[0-9a-f]{64}$'),
    disabled_at         timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rk_identity_account_tenant ON rk_identity_account (tenant_id);

-- An SSO session: the browser holds "sid.secret" in a cookie; only the secret's SHA-256 is
-- stored. One session spans every realm. acr/amr say how the resident last authenticated.
CREATE TABLE rk_identity_session (
    sid            text PRIMARY KEY CHECK (sid ~ '^[A-Za-z0-9_-]{22}$'),
    secret_sha256  bytea NOT NULL CHECK (length(secret_sha256) = 32),
    account_id     bigint NOT NULL REFERENCES rk_identity_account (id) ON DELETE CASCADE,
    auth_time      timestamptz NOT NULL,
    acr            text NOT NULL,
    amr            text[] NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    ended_at       timestamptz
);
CREATE INDEX rk_identity_session_account ON rk_identity_session (account_id);

-- Scopes a resident approved for a client; a request within them asks nothing again.
CREATE TABLE rk_identity_consent (
    account_id  bigint NOT NULL REFERENCES rk_identity_account (id) ON DELETE CASCADE,
    tenant_id   bigint NOT NULL REFERENCES rk_tenant (id),
    client_id   text NOT NULL,
    scopes      text[] NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, tenant_id, client_id)
);

-- A grant: what one authorization gave one client for one resident. Its authorization code,
-- its refresh tokens (one family) and the access tokens issued from it (claim "gid") live and
-- die with it: revoking the grant (code reuse, refresh token reuse, RFC 7009 revocation)
-- makes all of them inactive at once.
CREATE TABLE rk_identity_grant (
    id              text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{22}$'),
    tenant_id       bigint NOT NULL REFERENCES rk_tenant (id),
    client_id       text NOT NULL,
    account_id      bigint NOT NULL REFERENCES rk_identity_account (id) ON DELETE CASCADE,
    sid             text REFERENCES rk_identity_session (sid) ON DELETE SET NULL,
    scope           text NOT NULL,
    nonce           text,
    auth_time       timestamptz NOT NULL,
    acr             text NOT NULL,
    amr             text[] NOT NULL,
    agreement_id    bigint REFERENCES rk_agreement (id),
    agreement_version integer,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    revoked_at      timestamptz,
    revoked_reason  text
);
CREATE INDEX rk_identity_grant_sid ON rk_identity_grant (sid);

CREATE TABLE rk_identity_code (
    code_sha256     bytea PRIMARY KEY CHECK (length(code_sha256) = 32),
    grant_id        text NOT NULL REFERENCES rk_identity_grant (id) ON DELETE CASCADE,
    redirect_uri    text NOT NULL,
    code_challenge  text,
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz
);
CREATE INDEX rk_identity_code_grant ON rk_identity_code (grant_id);

CREATE TABLE rk_identity_refresh (
    token_sha256  bytea PRIMARY KEY CHECK (length(token_sha256) = 32),
    grant_id      text NOT NULL REFERENCES rk_identity_grant (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    spent_at      timestamptz
);
CREATE INDEX rk_identity_refresh_grant ON rk_identity_refresh (grant_id);

-- What the token endpoint needs to know about a live grant and its resident, as JSON.
-- PL/pgSQL, not SQL: PostgreSQL caches a PL/pgSQL function's plan, while an SQL function
-- called from PL/pgSQL is parsed and planned again on every call (~300 us of the ~490 us a
-- code exchange took; measured by tests/bench/oidc).
CREATE FUNCTION rk_identity_grant_json(p_grant rk_identity_grant) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    answer json;
BEGIN
    SELECT json_build_object(
        'grant_id', p_grant.id, 'scope', p_grant.scope, 'nonce', p_grant.nonce,
        'auth_time', extract(epoch FROM p_grant.auth_time)::bigint,
        'acr', p_grant.acr, 'amr', p_grant.amr, 'sid', p_grant.sid,
        'expires_at', extract(epoch FROM p_grant.expires_at)::bigint,
        'uid', a.uid, 'username', a.username, 'display_name', a.display_name,
        'email', a.email, 'home_municipality', t.code, 'home_tenant', t.slug,
        'residency_verified', a.residency_verified, 'staff_roles', a.staff_roles)
    INTO answer
    FROM rk_identity_account a JOIN rk_tenant t ON t.id = a.tenant_id
    WHERE a.id = p_grant.account_id;
    RETURN answer;
END
$$;

-- Redeems an authorization code for client p_client_id of tenant p_tenant_id, in one
-- transaction. The code must be unused, unexpired, issued to this client for p_redirect_uri,
-- and, when it was issued with a PKCE challenge, p_verifier_s256 (BASE64URL(SHA256(verifier))
-- computed by the caller) must equal it; a code without a challenge refuses a verifier.
-- A code presented a second time revokes its grant: every token it issued stops working.
-- On success the code is spent and, when the grant includes offline_access and the caller
-- passed one, p_refresh_sha256 becomes the grant's first refresh token.
-- Returns {"error": "invalid"|"expired"|"reused"|"redirect_uri"|"pkce"} or the grant JSON
-- with "refresh": true|false.
CREATE FUNCTION rk_identity_code_redeem(p_code_sha256 bytea, p_tenant_id bigint,
                                        p_client_id text, p_redirect_uri text,
                                        p_verifier_s256 text, p_refresh_sha256 bytea)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    c rk_identity_code;
    g rk_identity_grant;
    refresh boolean := false;
BEGIN
    SELECT * INTO c FROM rk_identity_code WHERE code_sha256 = p_code_sha256 FOR UPDATE;
    IF NOT FOUND THEN
        RETURN json_build_object('error', 'invalid');
    END IF;
    SELECT * INTO g FROM rk_identity_grant WHERE id = c.grant_id FOR UPDATE;
    IF g.tenant_id <> p_tenant_id OR g.client_id <> p_client_id THEN
        RETURN json_build_object('error', 'invalid');
    END IF;
    IF c.used_at IS NOT NULL THEN
        UPDATE rk_identity_grant SET revoked_at = coalesce(revoked_at, now()),
                                     revoked_reason = coalesce(revoked_reason, 'code_reuse')
            WHERE id = g.id;
        RETURN json_build_object('error', 'reused');
    END IF;
    UPDATE rk_identity_code SET used_at = now() WHERE code_sha256 = p_code_sha256;
    IF c.expires_at <= now() OR g.revoked_at IS NOT NULL THEN
        RETURN json_build_object('error', 'expired');
    END IF;
    IF c.redirect_uri <> p_redirect_uri THEN
        RETURN json_build_object('error', 'redirect_uri');
    END IF;
    IF (c.code_challenge IS NULL) <> (p_verifier_s256 IS NULL)
       OR c.code_challenge <> p_verifier_s256 THEN
        RETURN json_build_object('error', 'pkce');
    END IF;
    IF p_refresh_sha256 IS NOT NULL
       AND 'offline_access' = ANY (string_to_array(g.scope, ' ')) THEN
        INSERT INTO rk_identity_refresh (token_sha256, grant_id) VALUES (p_refresh_sha256, g.id);
        refresh := true;
    END IF;
    RETURN (rk_identity_grant_json(g)::jsonb || jsonb_build_object('refresh', refresh))::json;
END
$$;

-- Rotates a refresh token: p_old_sha256 is spent and p_new_sha256 takes its place in the
-- family. A token presented after it was spent revokes the whole grant (RFC 9700 §4.14.2):
-- one of the two parties holding it is not the client. Returns {"error": "invalid"|"expired"|
-- "reused"} or the grant JSON.
CREATE FUNCTION rk_identity_refresh_rotate(p_old_sha256 bytea, p_tenant_id bigint,
                                           p_client_id text, p_new_sha256 bytea)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    r rk_identity_refresh;
    g rk_identity_grant;
BEGIN
    SELECT * INTO r FROM rk_identity_refresh WHERE token_sha256 = p_old_sha256 FOR UPDATE;
    IF NOT FOUND THEN
        RETURN json_build_object('error', 'invalid');
    END IF;
    SELECT * INTO g FROM rk_identity_grant WHERE id = r.grant_id FOR UPDATE;
    IF g.tenant_id <> p_tenant_id OR g.client_id <> p_client_id THEN
        RETURN json_build_object('error', 'invalid');
    END IF;
    IF r.spent_at IS NOT NULL THEN
        UPDATE rk_identity_grant SET revoked_at = coalesce(revoked_at, now()),
                                     revoked_reason = coalesce(revoked_reason, 'refresh_reuse')
            WHERE id = g.id;
        RETURN json_build_object('error', 'reused');
    END IF;
    IF g.revoked_at IS NOT NULL OR g.expires_at <= now() THEN
        RETURN json_build_object('error', 'expired');
    END IF;
    UPDATE rk_identity_refresh SET spent_at = now() WHERE token_sha256 = p_old_sha256;
    INSERT INTO rk_identity_refresh (token_sha256, grant_id) VALUES (p_new_sha256, g.id);
    RETURN rk_identity_grant_json(g);
END
$$;
