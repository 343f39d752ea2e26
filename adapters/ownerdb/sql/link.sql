-- link.sql — the adapter's own schema "renkei_link" inside the owner's database: the
-- idempotency table, which hub booking key made which 予約番号, and one function per
-- AdapterService method over the owner's tables (schema yoyaku, owner_schema.sql).
--
-- renkei-adapter-ownerdb applies this file at every start (under an advisory lock), so every
-- statement is idempotent and the functions are replaced by the running version.
--
-- Each method function takes the request as proto3 JSON (what the adapter decoded) and answers
-- one jsonb object, which the adapter turns into the gRPC answer:
--   {"ok": <the response message as proto3 JSON>}
--   {"code": <gRPC code>, "reason": "BOOKING_ERROR_…", "message": "…"[, "retry_after": s]}
--   {"code": 3, "field": "time", "description": "…"}       (INVALID_ARGUMENT naming the field)
-- A mutation runs as one transaction (one statement): its idempotency row and its change to
-- the owner's tables commit together or not at all. Times are Japan local (Asia/Tokyo) for
-- the calendar and RFC 3339 UTC on the wire.
CREATE SCHEMA IF NOT EXISTS renkei_link;
COMMENT ON SCHEMA renkei_link IS 'renkei-adapter-ownerdb: the hub link (idempotency, booking keys, methods)';

-- One row: this database's identity, part of change and page tokens, so a token from another
-- (or a re-created) database is unknown rather than wrong.
CREATE TABLE IF NOT EXISTS renkei_link.meta (
    instance text NOT NULL CHECK (instance ~ '^[0-9a-f]{16}$'),
    one boolean PRIMARY KEY DEFAULT true CHECK (one)
);
INSERT INTO renkei_link.meta (instance)
    SELECT substr(md5(random()::text || clock_timestamp()::text), 1, 16)
    ON CONFLICT DO NOTHING;

-- (method, key) → the hash of the request and the first answer; the same key with another
-- request is refused.
CREATE TABLE IF NOT EXISTS renkei_link.idempotency (
    method text NOT NULL,
    key text NOT NULL,
    request_hash text NOT NULL,
    answer jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (method, key)
);

-- The hub's booking key of a 予約 made through the hub (GetBooking by key after a lost reply).
CREATE TABLE IF NOT EXISTS renkei_link.booking_key (
    yoyaku_no bigint PRIMARY KEY REFERENCES yoyaku.yoyaku,
    booking_key text NOT NULL
);
CREATE INDEX IF NOT EXISTS booking_key_key ON renkei_link.booking_key (booking_key);

-- --- small helpers ------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION renkei_link.utc(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- An RFC 3339 time, or NULL when text is not one.
CREATE OR REPLACE FUNCTION renkei_link.rfc3339(t text) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF t IS NULL OR t !~ '^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d{1,9})?([Zz]|[+-]\d\d:\d\d)$' THEN
        RETURN NULL;
    END IF;
    RETURN t::timestamptz;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION renkei_link.field(name text, description text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('code', 3, 'field', name, 'description', description)
$$;

CREATE OR REPLACE FUNCTION renkei_link.refusal(code int, reason text, message text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('code', code, 'reason', reason, 'message', message)
$$;

-- Charged as a resident and given the residents' window: residents, workers and students,
-- and partner residents when an agreement is in force (the hub decides the class).
CREATE OR REPLACE FUNCTION renkei_link.is_resident(resident jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT resident->>'residencyClass' IN ('RESIDENCY_CLASS_RESIDENT', 'RESIDENCY_CLASS_WORKER',
                                           'RESIDENCY_CLASS_STUDENT')
        OR (resident->>'residencyClass' = 'RESIDENCY_CLASS_PARTNER_AREA'
            AND jsonb_typeof(resident->'agreement') = 'object')
$$;

-- Charged the 市内 fee: the side the agreement in force gives (fee_basis), else by class.
CREATE OR REPLACE FUNCTION renkei_link.resident_rate(resident jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE resident->>'feeBasis'
        WHEN 'FEE_BASIS_RESIDENT_RATE' THEN true
        WHEN 'FEE_BASIS_NON_RESIDENT_RATE' THEN false
        ELSE renkei_link.is_resident(resident) END
$$;

-- The owner's 施設種別 in the hub's taxonomy.
CREATE OR REPLACE FUNCTION renkei_link.kind(shubetsu text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN shubetsu IN ('野球場', '少年野球場', 'ソフトボール場') THEN 'FACILITY_KIND_BASEBALL_FIELD'
        WHEN shubetsu IN ('庭球場', 'テニスコート') THEN 'FACILITY_KIND_TENNIS_COURT'
        WHEN shubetsu IN ('体育館', '体育室', 'アリーナ') THEN 'FACILITY_KIND_GYMNASIUM'
        WHEN shubetsu IN ('プール', '温水プール') THEN 'FACILITY_KIND_POOL'
        WHEN shubetsu IN ('会議室', '集会室', '研修室', '学習室') THEN 'FACILITY_KIND_MEETING_ROOM'
        WHEN shubetsu IN ('ホール', '講堂') THEN 'FACILITY_KIND_HALL'
        WHEN shubetsu IN ('音楽室', '練習室') THEN 'FACILITY_KIND_MUSIC_STUDIO'
        WHEN shubetsu IN ('球技場', 'サッカー場') THEN 'FACILITY_KIND_SOCCER_FIELD'
        WHEN shubetsu IN ('武道場', '柔道場', '剣道場') THEN 'FACILITY_KIND_MARTIAL_ARTS_HALL'
        WHEN shubetsu IN ('多目的室', '多目的ルーム') THEN 'FACILITY_KIND_MULTIPURPOSE_ROOM'
        WHEN shubetsu IN ('和室', '茶室') THEN 'FACILITY_KIND_JAPANESE_ROOM'
        WHEN shubetsu IN ('運動場', 'グラウンド', '多目的広場') THEN 'FACILITY_KIND_SPORTS_GROUND'
        WHEN shubetsu IN ('卓球場', '卓球室') THEN 'FACILITY_KIND_TABLE_TENNIS'
        WHEN shubetsu IN ('ゲートボール場') THEN 'FACILITY_KIND_GATEBALL'
        ELSE 'FACILITY_KIND_OTHER'
    END
$$;

-- A 施設 as a renkei.v1.Facility (proto3 JSON).
CREATE OR REPLACE FUNCTION renkei_link.facility(s yoyaku.shisetsu) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'id', s.shisetsu_cd,
        'ownerFacilityId', s.shisetsu_cd,
        'name', jsonb_build_object('ja', s.shisetsu_mei, 'en', s.shisetsu_mei_en,
                                   'kana', s.shisetsu_mei_kana),
        'siteId', nullif(s.basho_cd, ''),
        'siteName', CASE WHEN s.basho_mei <> '' THEN jsonb_build_object('ja', s.basho_mei) END,
        'kind', renkei_link.kind(s.shubetsu),
        'description', jsonb_build_object('ja', s.shubetsu),
        'address', jsonb_build_object('postalCode', s.yubin_no,
                                      'text', jsonb_build_object('ja', s.jusho)),
        'location', CASE WHEN s.ido IS NOT NULL AND s.keido IS NOT NULL
                         THEN jsonb_build_object('latitude', s.ido, 'longitude', s.keido) END,
        'capacity', s.teiin,
        'fees', jsonb_build_object('rates', jsonb_build_array(jsonb_build_object(
            'unitMinutes', s.waku_fun,
            'residentFee', jsonb_build_object('amount', s.ryokin_shinai),
            'nonResidentFee', jsonb_build_object('amount', s.ryokin_shigai)))),
        'usageRules', jsonb_build_object('ja', CASE WHEN s.shimin_gentei
            THEN '市内在住・在勤・在学の方のみ利用できます' ELSE 'どなたでも利用できます' END),
        'bookingWindow', jsonb_build_object(
            'opensDaysBefore', s.uketsuke_nissu,
            'nonResidentOpensDaysBefore', s.shigai_uketsuke_nissu,
            'closesHoursBefore', s.shimekiri_jikan,
            'cancellationClosesHoursBefore', s.torikeshi_jikan),
        'bookableViaHub', s.web_uketsuke,
        'openingHours', jsonb_build_object('ja',
            left(s.kaikan::text, 5) || '〜' || left(s.heikan::text, 5) ||
            coalesce('（毎週' || (ARRAY['日', '月', '火', '水', '木', '金', '土'])[s.kyukanbi + 1]
                     || '曜休館）', '')),
        'updatedAt', renkei_link.utc(s.koshin_nichiji)))
$$;

-- The state of a 予約 for the hub: a 仮予約 past its 期限 is EXPIRED even before anyone
-- wrote that down.
CREATE OR REPLACE FUNCTION renkei_link.state(y yoyaku.yoyaku) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE y.jotai
        WHEN '仮予約' THEN CASE WHEN y.kari_kigen > now() THEN 'OWNER_BOOKING_STATE_HELD'
                              ELSE 'OWNER_BOOKING_STATE_EXPIRED' END
        WHEN '本予約' THEN 'OWNER_BOOKING_STATE_CONFIRMED'
        WHEN '取消' THEN 'OWNER_BOOKING_STATE_CANCELLED'
        ELSE 'OWNER_BOOKING_STATE_EXPIRED'
    END
$$;

-- A 予約 as a renkei.v1.OwnerBooking (proto3 JSON).
CREATE OR REPLACE FUNCTION renkei_link.booking(y yoyaku.yoyaku) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'ownerReference', y.yoyaku_no::text,
        'bookingKey', (SELECT k.booking_key FROM renkei_link.booking_key k
                        WHERE k.yoyaku_no = y.yoyaku_no),
        'facilityId', y.shisetsu_cd,
        'time', jsonb_build_object('start', renkei_link.utc(lower(y.riyo_kikan)),
                                   'end', renkei_link.utc(upper(y.riyo_kikan))),
        'state', renkei_link.state(y),
        'fee', jsonb_build_object('amount', y.ryokin),
        'holdExpiresAt', CASE WHEN renkei_link.state(y) = 'OWNER_BOOKING_STATE_HELD'
                              THEN renkei_link.utc(y.kari_kigen) END,
        'cancellationDeadline', (SELECT renkei_link.utc(lower(y.riyo_kikan)
                                        - make_interval(hours => s.torikeshi_jikan))
                                   FROM yoyaku.shisetsu s WHERE s.shisetsu_cd = y.shisetsu_cd),
        'residentPairwiseId', y.riyosha_id))
$$;

CREATE OR REPLACE FUNCTION renkei_link.booked(y yoyaku.yoyaku) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('ok', jsonb_build_object('booking', renkei_link.booking(y)))
$$;

-- The live 予約 over [s, e) at a facility, 本予約 first; NULL when the period is free.
CREATE OR REPLACE FUNCTION renkei_link.live_booking(cd text, s timestamptz, e timestamptz)
RETURNS yoyaku.yoyaku LANGUAGE sql STABLE AS $$
    SELECT y.* FROM yoyaku.yoyaku y
     WHERE y.shisetsu_cd = cd AND y.riyo_kikan && tstzrange(s, e)
       AND (y.jotai = '本予約' OR (y.jotai = '仮予約' AND y.kari_kigen > now()))
     ORDER BY y.jotai = '本予約' DESC, y.yoyaku_no LIMIT 1
$$;

-- SLOT_FULL or SLOT_HELD (with retry_after) for a period someone has; NULL when it is free.
CREATE OR REPLACE FUNCTION renkei_link.slot_taken(cd text, s timestamptz, e timestamptz)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
    y yoyaku.yoyaku := renkei_link.live_booking(cd, s, e);
BEGIN
    IF y.yoyaku_no IS NULL THEN
        RETURN NULL;
    ELSIF y.jotai = '本予約' THEN
        RETURN renkei_link.refusal(9, 'BOOKING_ERROR_SLOT_FULL', 'the slot is already booked');
    END IF;
    RETURN renkei_link.refusal(10, 'BOOKING_ERROR_SLOT_HELD',
                               'the slot is held by someone else; try again later')
        || jsonb_build_object('retry_after',
                              ceil(extract(epoch FROM y.kari_kigen - now()))::int + 1);
END $$;

-- --- idempotency ----------------------------------------------------------------------------

-- NULL: a new call, go on (its row is taken and locked until the transaction ends); else the
-- answer to give: the first answer again, IDEMPOTENCY_KEY_REUSED, or a bad key. A second call
-- with the same key waits here for the first to commit.
CREATE OR REPLACE FUNCTION renkei_link.idem_begin(m text, k text, h text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    r renkei_link.idempotency;
BEGIN
    IF k IS NULL OR k !~ '^[A-Za-z0-9._:-]{1,128}$' THEN
        RETURN renkei_link.field('idempotency_key.key',
                                 'required: 1 to 128 characters of A-Z a-z 0-9 . _ : -');
    END IF;
    INSERT INTO renkei_link.idempotency (method, key, request_hash) VALUES (m, k, h)
        ON CONFLICT DO NOTHING;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    SELECT * INTO r FROM renkei_link.idempotency WHERE method = m AND key = k;
    IF r.request_hash <> h THEN
        RETURN renkei_link.refusal(6, 'ERROR_REASON_IDEMPOTENCY_KEY_REUSED',
                                   'idempotency_key: used before with a different request');
    END IF;
    RETURN r.answer;
END $$;

-- Remembers answer for (m, k) and returns it. Bad requests and SLOT_HELD are not remembered:
-- the same key may succeed once the request is fixed or the other hold has gone.
CREATE OR REPLACE FUNCTION renkei_link.idem_end(m text, k text, answer jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    IF answer ? 'field' OR answer->>'reason' = 'BOOKING_ERROR_SLOT_HELD' THEN
        DELETE FROM renkei_link.idempotency WHERE method = m AND key = k;
    ELSE
        UPDATE renkei_link.idempotency SET answer = idem_end.answer WHERE method = m AND key = k;
    END IF;
    RETURN answer;
END $$;

-- --- ListFacilities ---------------------------------------------------------------------------

-- Change token "o1.<instance>.<koshin_no>"; page token "p1.<instance>.<snapshot>.<since>.<last
-- 施設コード>" (keyset paging on the code). A token of another database is unknown: a full
-- listing. Removed facilities (廃止日 set) come as removed_facility_ids on the first page of
-- an incremental listing.
CREATE OR REPLACE FUNCTION renkei_link.list_facilities(req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    inst text := (SELECT instance FROM renkei_link.meta);
    page_size int;
    change text := coalesce(req->>'changeToken', '');
    page_token text := coalesce(req->'page'->>'pageToken', '');
    since bigint := 0;
    snap bigint := (SELECT coalesce(max(koshin_no), 0) FROM yoyaku.shisetsu);
    full_listing boolean := true;
    last_cd text := '';
    parts text[];
    listed jsonb;
    n int;
    total int;
    removed jsonb := '[]';
    page_out jsonb;
    answer jsonb;
BEGIN
    IF jsonb_typeof(req->'page'->'pageSize') = 'number' AND (req->'page'->>'pageSize')::int < 0 THEN
        RETURN renkei_link.field('page.page_size', 'must not be negative');
    END IF;
    page_size := coalesce((req->'page'->>'pageSize')::int, 0);
    page_size := CASE WHEN page_size = 0 THEN 20 WHEN page_size > 1000 THEN 1000 ELSE page_size END;
    parts := regexp_match(change, '^o1\.([0-9a-f]{16})\.([0-9]{1,18})$');
    IF parts IS NOT NULL AND parts[1] = inst AND parts[2]::bigint <= snap THEN
        since := parts[2]::bigint;
        full_listing := false;
    END IF;
    IF page_token <> '' THEN
        parts := regexp_match(page_token,
                              '^p1\.([0-9a-f]{16})\.([0-9]{1,18})\.([0-9]{1,18})\.([A-Z0-9-]{1,32})$');
        IF parts IS NULL OR parts[1] <> inst THEN
            RETURN renkei_link.field('page.page_token', 'not a token this adapter issued');
        END IF;
        IF parts[3]::bigint <> since THEN
            RETURN renkei_link.field('change_token', 'must not change while paging');
        END IF;
        snap := parts[2]::bigint;
        last_cd := parts[4];
    END IF;
    SELECT count(*) INTO total FROM yoyaku.shisetsu s
     WHERE s.haishi_bi IS NULL AND (full_listing OR s.koshin_no > since);
    SELECT coalesce(jsonb_agg(renkei_link.facility(p.f) ORDER BY (p.f).shisetsu_cd), '[]'), count(*)
      INTO listed, n
      FROM (SELECT s AS f FROM yoyaku.shisetsu s
             WHERE s.haishi_bi IS NULL AND (full_listing OR s.koshin_no > since)
               AND s.shisetsu_cd > last_cd
             ORDER BY s.shisetsu_cd LIMIT page_size + 1) p;
    IF NOT full_listing AND page_token = '' THEN
        SELECT coalesce(jsonb_agg(s.shisetsu_cd ORDER BY s.shisetsu_cd), '[]') INTO removed
          FROM yoyaku.shisetsu s WHERE s.haishi_bi IS NOT NULL AND s.koshin_no > since;
    END IF;
    page_out := jsonb_build_object('totalSize', total);
    answer := jsonb_build_object('removedFacilityIds', removed, 'fullListing', full_listing);
    IF n > page_size THEN
        listed := listed - page_size;
        page_out := page_out || jsonb_build_object('nextPageToken', format('p1.%s.%s.%s.%s', inst,
                                           snap, since, listed->(page_size - 1)->>'id'));
    ELSE
        answer := answer || jsonb_build_object('changeToken', format('o1.%s.%s', inst, snap));
    END IF;
    RETURN jsonb_build_object('ok', answer || jsonb_build_object('facilities', listed, 'page', page_out));
END $$;

-- --- GetAvailability --------------------------------------------------------------------------

-- The slots of s inside [ws, we) as renkei.v1.Slot values: the owner's 予約 (BOOKED, or HELD
-- until the 仮予約 期限), then CLOSED on the 休館曜日 and outside the booking window (by
-- resident), else AVAILABLE, with the fee when priced (市内 when resident_rate).
CREATE OR REPLACE FUNCTION renkei_link.slots(s yoyaku.shisetsu, ws timestamptz, we timestamptz,
                                             resident boolean, priced boolean,
                                             resident_rate boolean)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    WITH slot AS (
        SELECT t AS start, t + make_interval(mins => s.waku_fun) AS fin
          FROM generate_series(date_trunc('day', ws AT TIME ZONE 'Asia/Tokyo'),
                               we AT TIME ZONE 'Asia/Tokyo', interval '1 day') AS d(day),
               generate_series((d.day + s.kaikan) AT TIME ZONE 'Asia/Tokyo',
                               (d.day + s.heikan) AT TIME ZONE 'Asia/Tokyo'
                                   - make_interval(mins => s.waku_fun),
                               make_interval(mins => s.waku_fun)) AS g(t)
         WHERE t >= ws AND t + make_interval(mins => s.waku_fun) <= we
    ), status AS (
        SELECT slot.*, CASE
            WHEN b.jotai = '本予約' THEN 'SLOT_STATUS_BOOKED'
            WHEN b.jotai = '仮予約' THEN 'SLOT_STATUS_HELD'
            WHEN extract(dow FROM slot.start AT TIME ZONE 'Asia/Tokyo') = s.kyukanbi
                THEN 'SLOT_STATUS_CLOSED'
            WHEN slot.start < now() + make_interval(hours => s.shimekiri_jikan)
                THEN 'SLOT_STATUS_CLOSED'
            WHEN slot.start > now() + make_interval(days => CASE WHEN resident
                     THEN s.uketsuke_nissu ELSE s.shigai_uketsuke_nissu END)
                THEN 'SLOT_STATUS_CLOSED'
            ELSE 'SLOT_STATUS_AVAILABLE' END AS status
          FROM slot LEFT JOIN LATERAL renkei_link.live_booking(s.shisetsu_cd, slot.start, slot.fin) b
               ON b.yoyaku_no IS NOT NULL
    )
    SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
               'facilityId', s.shisetsu_cd,
               'time', jsonb_build_object('start', renkei_link.utc(start),
                                          'end', renkei_link.utc(fin)),
               'status', status,
               'fee', CASE WHEN priced AND status = 'SLOT_STATUS_AVAILABLE'
                           THEN jsonb_build_object('amount', CASE WHEN resident_rate
                                THEN s.ryokin_shinai ELSE s.ryokin_shigai END) END,
               'slotId', s.shisetsu_cd || '@' || extract(epoch FROM start)::bigint))
           ORDER BY start), '[]')
      FROM status
$$;

CREATE OR REPLACE FUNCTION renkei_link.get_availability(req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ids text[];
    ws timestamptz := renkei_link.rfc3339(req->'window'->>'start');
    we timestamptz := renkei_link.rfc3339(req->'window'->>'end');
    resident boolean := req->'resident' IS NULL OR renkei_link.is_resident(req->'resident');
    answer jsonb;
BEGIN
    SELECT array_agg(v) INTO ids FROM jsonb_array_elements_text(
        CASE WHEN jsonb_typeof(req->'facilityIds') = 'array' THEN req->'facilityIds' ELSE '[]' END) v;
    IF coalesce(cardinality(ids), 0) NOT BETWEEN 1 AND 50 THEN
        RETURN renkei_link.field('facility_ids', 'must hold 1 to 50 ids');
    ELSIF req->'window' IS NULL THEN
        RETURN renkei_link.field('window', 'required');
    ELSIF ws IS NULL OR we IS NULL THEN
        RETURN renkei_link.field('window', 'start and end must be RFC 3339 times');
    ELSIF we <= ws THEN
        RETURN renkei_link.field('window', 'end must be after start');
    ELSIF we - ws > interval '31 days' THEN
        RETURN renkei_link.field('window', 'must span at most 31 days');
    END IF;
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'facilityId', s.shisetsu_cd, 'status', 'ANSWER_STATUS_OK',
               'asOf', renkei_link.utc(now()),
               'slots', renkei_link.slots(s, ws, we, resident, req->'resident' IS NOT NULL,
                                          renkei_link.resident_rate(req->'resident')))
           ORDER BY o.n), '[]')
      INTO answer
      FROM unnest(ids) WITH ORDINALITY AS o(cd, n)
      JOIN yoyaku.shisetsu s ON s.shisetsu_cd = o.cd AND s.haishi_bi IS NULL;
    RETURN jsonb_build_object('ok', jsonb_build_object('facilities', answer));
END $$;

-- --- HoldSlot -------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION renkei_link.hold(req jsonb, k text, ttl_seconds int) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    s yoyaku.shisetsu;
    y yoyaku.yoyaku;
    who text := coalesce(req->'resident'->>'pairwiseId', '');
    slot_id text := coalesce(req->>'slotId', '');
    resident boolean := renkei_link.is_resident(req->'resident');
    t0 timestamptz;
    t1 timestamptz;
    local_day timestamp;
    opens timestamptz;
    step int;
    fee bigint;
    taken jsonb;
BEGIN
    IF who = '' THEN
        RETURN renkei_link.field('resident.pairwise_id', 'required: who the hold is for');
    ELSIF char_length(coalesce(req->>'purpose', '')) > 200 THEN
        RETURN renkei_link.field('purpose', 'must be at most 200 characters');
    END IF;
    SELECT * INTO s FROM yoyaku.shisetsu
     WHERE shisetsu_cd = coalesce(req->>'facilityId', '') AND haishi_bi IS NULL;
    IF NOT FOUND THEN
        RETURN renkei_link.refusal(5, 'ERROR_REASON_NOT_FOUND', 'no such facility');
    END IF;
    step := s.waku_fun * 60;
    IF slot_id <> '' THEN
        IF slot_id !~ ('^' || s.shisetsu_cd || '@[0-9]{1,12}$') THEN
            RETURN renkei_link.field('slot_id', 'not a slot of this facility');
        END IF;
        t0 := to_timestamp(split_part(slot_id, '@', 2)::bigint);
        t1 := t0 + make_interval(secs => step);
        IF req->'time' IS NOT NULL THEN
            IF renkei_link.rfc3339(req->'time'->>'start') IS DISTINCT FROM t0
               OR renkei_link.rfc3339(req->'time'->>'end') IS NULL
               OR renkei_link.rfc3339(req->'time'->>'end') < t1 THEN
                RETURN renkei_link.field('time', 'must begin with slot_id''s slot');
            END IF;
            t1 := renkei_link.rfc3339(req->'time'->>'end');
        END IF;
    ELSE
        t0 := renkei_link.rfc3339(req->'time'->>'start');
        t1 := renkei_link.rfc3339(req->'time'->>'end');
        IF req->'time' IS NULL THEN
            RETURN renkei_link.field('time', 'required');
        ELSIF t0 IS NULL OR t1 IS NULL THEN
            RETURN renkei_link.field('time', 'start and end must be RFC 3339 times');
        ELSIF t1 <= t0 THEN
            RETURN renkei_link.field('time', 'end must be after start');
        END IF;
    END IF;
    local_day := date_trunc('day', t0 AT TIME ZONE 'Asia/Tokyo');
    opens := (local_day + s.kaikan) AT TIME ZONE 'Asia/Tokyo';
    IF t0 < opens OR t1 > (local_day + s.heikan) AT TIME ZONE 'Asia/Tokyo'
       OR extract(epoch FROM t0 - opens)::bigint % step <> 0
       OR extract(epoch FROM t1 - t0)::bigint % step <> 0 THEN
        RETURN renkei_link.field('time', 'must match this facility''s slots exactly (one day)');
    ELSIF s.teiin > 0 AND coalesce((req->>'attendees')::int, 0) > s.teiin THEN
        RETURN renkei_link.field('attendees', 'more than the facility''s capacity');
    ELSIF NOT s.web_uketsuke THEN
        RETURN renkei_link.refusal(9, 'BOOKING_ERROR_NOT_BOOKABLE_VIA_HUB',
                                   'this facility is booked at the owner''s counter only');
    ELSIF s.shimin_gentei AND NOT resident THEN
        RETURN renkei_link.refusal(7, 'BOOKING_ERROR_NOT_ELIGIBLE',
                                   'only residents, workers and students of the city may use it');
    END IF;
    -- The owner's holds that ran out no longer count (nor block its exclusion constraint).
    UPDATE yoyaku.yoyaku SET jotai = '期限切れ', koshin_nichiji = now()
     WHERE shisetsu_cd = s.shisetsu_cd AND jotai = '仮予約' AND kari_kigen <= now()
       AND riyo_kikan && tstzrange(t0, t1);
    taken := renkei_link.slot_taken(s.shisetsu_cd, t0, t1);
    IF taken IS NOT NULL THEN
        RETURN taken;
    ELSIF extract(dow FROM t0 AT TIME ZONE 'Asia/Tokyo') = s.kyukanbi THEN
        RETURN renkei_link.refusal(9, 'BOOKING_ERROR_SLOT_FULL', 'the facility is closed that day');
    ELSIF t0 < now() + make_interval(hours => s.shimekiri_jikan)
          OR t0 > now() + make_interval(days => CASE WHEN resident THEN s.uketsuke_nissu
                                                     ELSE s.shigai_uketsuke_nissu END) THEN
        RETURN renkei_link.refusal(9, 'BOOKING_ERROR_OUTSIDE_WINDOW',
            format('%s may book from %s days to %s hours before',
                   CASE WHEN resident THEN 'residents' ELSE 'non-residents' END,
                   CASE WHEN resident THEN s.uketsuke_nissu ELSE s.shigai_uketsuke_nissu END,
                   s.shimekiri_jikan));
    END IF;
    fee := extract(epoch FROM t1 - t0)::bigint / step
           * CASE WHEN renkei_link.resident_rate(req->'resident') THEN s.ryokin_shinai
                  ELSE s.ryokin_shigai END;
    IF jsonb_typeof(req->'expectedFee') = 'object'
       AND coalesce((req->'expectedFee'->>'amount')::bigint, 0) <> fee THEN
        RETURN renkei_link.refusal(9, 'BOOKING_ERROR_PRICE_CHANGED',
                                   format('the fee is %s yen', fee));
    END IF;
    BEGIN
        INSERT INTO yoyaku.yoyaku (shisetsu_cd, riyo_kikan, jotai, kari_kigen, riyosha_id,
                                   riyo_ninzu, riyo_mokuteki, ryokin, uketsuke_keiro)
        VALUES (s.shisetsu_cd, tstzrange(t0, t1), '仮予約',
                now() + make_interval(secs => ttl_seconds), who,
                coalesce((req->>'attendees')::int, 0), coalesce(req->>'purpose', ''), fee, '連携')
        RETURNING * INTO y;
    EXCEPTION WHEN exclusion_violation THEN
        -- Someone else's 予約 committed while this one was made: the owner's own rule wins.
        RETURN coalesce(renkei_link.slot_taken(s.shisetsu_cd, t0, t1),
                        renkei_link.refusal(9, 'BOOKING_ERROR_SLOT_FULL',
                                            'the slot is already booked'));
    END;
    INSERT INTO renkei_link.booking_key (yoyaku_no, booking_key) VALUES (y.yoyaku_no, k);
    RETURN renkei_link.booked(y);
END $$;

-- --- ConfirmBooking, CancelBooking, GetBooking, and the mutations' idempotency --------------------------------------------------

-- The 予約 of an owner reference, locked, with a 仮予約 past its 期限 written down as
-- 期限切れ; NULL when there is none the resident may see (someone else's is not found either).
CREATE OR REPLACE FUNCTION renkei_link.booking_for(req jsonb) RETURNS yoyaku.yoyaku
LANGUAGE plpgsql AS $$
DECLARE
    ref text := coalesce(req->>'ownerReference', '');
    who text := coalesce(req->'resident'->>'pairwiseId', '');
    y yoyaku.yoyaku;
BEGIN
    IF ref !~ '^[0-9]{1,18}$' THEN
        RETURN NULL;
    END IF;
    SELECT * INTO y FROM yoyaku.yoyaku WHERE yoyaku_no = ref::bigint FOR UPDATE;
    IF NOT FOUND OR (who <> '' AND y.riyosha_id <> who) THEN
        RETURN NULL;
    END IF;
    IF y.jotai = '仮予約' AND y.kari_kigen <= now() THEN
        UPDATE yoyaku.yoyaku SET jotai = '期限切れ', koshin_nichiji = now()
         WHERE yoyaku_no = y.yoyaku_no RETURNING * INTO y;
    END IF;
    RETURN y;
END $$;

CREATE OR REPLACE FUNCTION renkei_link.confirm(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    y yoyaku.yoyaku := renkei_link.booking_for(req);
BEGIN
    IF y.yoyaku_no IS NULL THEN
        RETURN renkei_link.refusal(5, 'ERROR_REASON_NOT_FOUND', 'no such booking');
    ELSIF y.jotai = '期限切れ' THEN
        RETURN renkei_link.refusal(9, 'BOOKING_ERROR_HOLD_EXPIRED',
                                   'the hold expired before confirmation');
    ELSIF y.jotai = '取消' THEN
        RETURN renkei_link.refusal(9, 'BOOKING_ERROR_INVALID_STATE', 'the booking was cancelled');
    ELSIF jsonb_typeof(req->'acceptedFee') = 'object'
          AND coalesce((req->'acceptedFee'->>'amount')::bigint, 0) <> y.ryokin THEN
        RETURN renkei_link.refusal(9, 'BOOKING_ERROR_PRICE_CHANGED',
                                   format('the fee is %s yen', y.ryokin));
    ELSIF y.jotai = '仮予約' THEN
        UPDATE yoyaku.yoyaku SET jotai = '本予約', kari_kigen = NULL, koshin_nichiji = now()
         WHERE yoyaku_no = y.yoyaku_no RETURNING * INTO y;
    END IF;
    RETURN renkei_link.booked(y);
END $$;

CREATE OR REPLACE FUNCTION renkei_link.cancel(req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    y yoyaku.yoyaku := renkei_link.booking_for(req);
    closes int;
BEGIN
    IF y.yoyaku_no IS NULL THEN
        RETURN renkei_link.refusal(5, 'ERROR_REASON_NOT_FOUND', 'no such booking');
    ELSIF y.jotai = '期限切れ' THEN
        RETURN renkei_link.refusal(9, 'BOOKING_ERROR_INVALID_STATE',
                                   'the hold has expired already');
    END IF;
    SELECT torikeshi_jikan INTO closes FROM yoyaku.shisetsu WHERE shisetsu_cd = y.shisetsu_cd;
    IF y.jotai = '本予約' AND now() > lower(y.riyo_kikan) - make_interval(hours => closes) THEN
        RETURN renkei_link.refusal(9, 'BOOKING_ERROR_CANCELLATION_CLOSED',
                                   format('cancellation closes %s hours before the start', closes));
    ELSIF y.jotai <> '取消' THEN
        UPDATE yoyaku.yoyaku SET jotai = '取消', torikeshi_riyu = left(coalesce(req->>'reason', ''), 200),
                                 koshin_nichiji = now()
         WHERE yoyaku_no = y.yoyaku_no RETURNING * INTO y;
    END IF;
    RETURN renkei_link.booked(y);
END $$;

-- HoldSlot, ConfirmBooking or CancelBooking (m) under the request's idempotency key: its row
-- and the change to the owner's tables commit together.
CREATE OR REPLACE FUNCTION renkei_link.mutation(m text, req jsonb, h text, ttl_seconds int)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    k text := req->'idempotencyKey'->>'key';
    answer jsonb := renkei_link.idem_begin(m, k, h);
BEGIN
    IF answer IS NOT NULL THEN
        RETURN answer;
    ELSIF m = 'HoldSlot' THEN
        answer := renkei_link.hold(req, k, ttl_seconds);
    ELSIF m = 'ConfirmBooking' THEN
        answer := renkei_link.confirm(req);
    ELSE
        answer := renkei_link.cancel(req);
    END IF;
    RETURN renkei_link.idem_end(m, k, answer);
END $$;

CREATE OR REPLACE FUNCTION renkei_link.get_booking(req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ref text := coalesce(req->>'ownerReference', '');
    k text := coalesce(req->>'bookingKey', '');
    y yoyaku.yoyaku;
BEGIN
    IF ref = '' AND k = '' THEN
        RETURN renkei_link.field('owner_reference', 'owner_reference or booking_key is required');
    ELSIF ref <> '' THEN
        SELECT * INTO y FROM yoyaku.yoyaku
         WHERE yoyaku_no = CASE WHEN ref ~ '^[0-9]{1,18}$' THEN ref::bigint END;
    ELSE
        SELECT b.* INTO y FROM yoyaku.yoyaku b JOIN renkei_link.booking_key USING (yoyaku_no)
         WHERE booking_key = k ORDER BY yoyaku_no DESC LIMIT 1;
    END IF;
    IF NOT FOUND THEN
        RETURN renkei_link.refusal(5, 'ERROR_REASON_NOT_FOUND', 'no such booking');
    END IF;
    RETURN renkei_link.booked(y);
END $$;
