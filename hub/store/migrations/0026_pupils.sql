-- 0026_pupils: pupil IDs (the 江東区 model) — an account a city issues to each of its school
-- children, working until they leave lower secondary school.
--
-- A pupil is an account of the home realm (rk_identity_account: username = the pupil ID) with a
-- row here: the issuing school and valid_until, the end of March (JST) of the school year in
-- which the child is in the ninth grade (中学3年). The grade is never stored: it is what
-- valid_until says about today, so the age band moves on every April by itself. valid_until is
-- an end of schooling, not a birth date, and no answer names it as one; tokens carry only the
-- age band (rk_identity_age_band), to clients allowed the age_band scope.
CREATE TABLE rk_identity_pupil (
    account_id   bigint PRIMARY KEY REFERENCES rk_identity_account (id) ON DELETE CASCADE,
    school       text NOT NULL CHECK (length(school) BETWEEN 1 AND 100),
    valid_until  date NOT NULL CHECK (extract(month FROM valid_until) = 3
                                      AND extract(day FROM valid_until) = 31),
    issued_at    timestamptz NOT NULL DEFAULT now()
);

-- The Japanese school year (April to March) of a moment, in JST: 2026 from 2026-04-01 to
-- 2027-03-31.
CREATE FUNCTION rk_school_year(p_at timestamptz) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT extract(year FROM (p_at AT TIME ZONE 'Asia/Tokyo') - interval '3 months')::integer
$$;

-- The last day of a pupil ID issued now for overall grade p_grade (1–6 小学校, 7–9 中学校).
CREATE FUNCTION rk_pupil_valid_until(p_grade integer) RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT make_date(rk_school_year(now()) + (9 - p_grade) + 1, 3, 31)
$$;

-- 'elementary' or 'lower_secondary' for a pupil whose ID is still valid (JST); NULL for any
-- other account, and for a pupil past valid_until.
CREATE FUNCTION rk_identity_age_band(p_account bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN 9 - (extract(year FROM p.valid_until)::integer - 1 - rk_school_year(now())) >= 7
                THEN 'lower_secondary' ELSE 'elementary' END
      FROM rk_identity_pupil p
     WHERE p.account_id = p_account
       AND p.valid_until >= (now() AT TIME ZONE 'Asia/Tokyo')::date
$$;

-- Whether the account is a pupil whose ID ended (after valid_until, JST): its logins are
-- refused and its SSO sessions no longer count.
CREATE FUNCTION rk_identity_pupil_ended(p_account bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM rk_identity_pupil p
                    WHERE p.account_id = p_account
                      AND p.valid_until < (now() AT TIME ZONE 'Asia/Tokyo')::date)
$$;

-- Issues one pupil: the account (username = the pupil ID, the initial password's argon2id
-- hash) and its pupil row, in one statement. Answers the pupil as JSON.
CREATE FUNCTION rk_identity_pupil_issue(p_uid text, p_tenant bigint, p_pupil_id text,
                                        p_hash text, p_display text, p_school text,
                                        p_grade integer) RETURNS json
LANGUAGE sql AS $$
    WITH a AS (
        INSERT INTO rk_identity_account (uid, tenant_id, username, password_hash, display_name)
        VALUES (p_uid, p_tenant, p_pupil_id, p_hash, p_display) RETURNING id, username
    ), p AS (
        INSERT INTO rk_identity_pupil (account_id, school, valid_until)
        SELECT id, p_school, rk_pupil_valid_until(p_grade) FROM a RETURNING *
    )
    SELECT json_build_object('pupil_id', a.username, 'school', p.school, 'grade', p_grade,
                             'age_band', CASE WHEN p_grade >= 7 THEN 'lower_secondary'
                                              ELSE 'elementary' END,
                             'valid_until', to_char(p.valid_until, 'YYYY-MM-DD'))
      FROM a JOIN p ON p.account_id = a.id
$$;

-- The grant as token issuance reads it (0005), with the pupil's age band.
CREATE OR REPLACE FUNCTION rk_identity_grant_json(p_grant rk_identity_grant) RETURNS json
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
        'residency_verified', a.residency_verified, 'staff_roles', a.staff_roles,
        'age_band', rk_identity_age_band(a.id))
    INTO answer
    FROM rk_identity_account a JOIN rk_tenant t ON t.id = a.tenant_id
    WHERE a.id = p_grant.account_id;
    RETURN answer;
END
$$;
