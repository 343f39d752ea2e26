-- owner_schema.sql — the owner's own reservation system (施設予約システム), schema "yoyaku".
--
-- This stands for a vendor product the city already runs: its tables, its names, its rules.
-- The adapter reads and writes it as the vendor's integration interface allows and never
-- changes its shape; renkei-adapter-ownerdb creates it only for a demo or test database
-- (ownerdb.init_schema = 1). Every statement is idempotent.
--
-- The owner's rule against double booking is its own: an exclusion constraint over
-- (施設コード, 利用期間) for live bookings (仮予約 and 本予約), whoever books — the counter
-- (窓口), the phone, or the hub.
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE SCHEMA IF NOT EXISTS yoyaku;
COMMENT ON SCHEMA yoyaku IS '施設予約システム（所有者の業務データ）';

CREATE SEQUENCE IF NOT EXISTS yoyaku.koshin_seq;
COMMENT ON SEQUENCE yoyaku.koshin_seq IS '更新番号: 施設マスタの変更ごとに進む';

CREATE TABLE IF NOT EXISTS yoyaku.shisetsu (
    shisetsu_cd text PRIMARY KEY CHECK (shisetsu_cd ~ '^[A-Z0-9][A-Z0-9-]{0,31}$'),
    shisetsu_mei text NOT NULL CHECK (shisetsu_mei <> ''),
    shisetsu_mei_kana text NOT NULL DEFAULT '',
    shisetsu_mei_en text NOT NULL DEFAULT '',
    basho_cd text NOT NULL DEFAULT '',
    basho_mei text NOT NULL DEFAULT '',
    shubetsu text NOT NULL,
    teiin int NOT NULL DEFAULT 0 CHECK (teiin >= 0),
    yubin_no text NOT NULL DEFAULT '',
    jusho text NOT NULL DEFAULT '',
    ido double precision CHECK (ido BETWEEN -90 AND 90),
    keido double precision CHECK (keido BETWEEN -180 AND 180),
    kaikan time NOT NULL DEFAULT '09:00',
    heikan time NOT NULL DEFAULT '21:00',
    waku_fun int NOT NULL DEFAULT 120 CHECK (waku_fun IN (30, 60, 90, 120, 180, 240)),
    kyukanbi int CHECK (kyukanbi BETWEEN 0 AND 6),
    ryokin_shinai int NOT NULL CHECK (ryokin_shinai >= 0),
    ryokin_shigai int NOT NULL CHECK (ryokin_shigai >= 0),
    uketsuke_nissu int NOT NULL DEFAULT 60 CHECK (uketsuke_nissu BETWEEN 1 AND 400),
    shigai_uketsuke_nissu int NOT NULL DEFAULT 30 CHECK (shigai_uketsuke_nissu BETWEEN 1 AND 400),
    shimekiri_jikan int NOT NULL DEFAULT 1 CHECK (shimekiri_jikan >= 0),
    torikeshi_jikan int NOT NULL DEFAULT 24 CHECK (torikeshi_jikan >= 0),
    shimin_gentei boolean NOT NULL DEFAULT false,
    web_uketsuke boolean NOT NULL DEFAULT true,
    haishi_bi timestamptz,
    koshin_no bigint NOT NULL DEFAULT nextval('yoyaku.koshin_seq'),
    koshin_nichiji timestamptz NOT NULL DEFAULT now(),
    CHECK (heikan > kaikan)
);
COMMENT ON TABLE yoyaku.shisetsu IS '施設マスタ';
COMMENT ON COLUMN yoyaku.shisetsu.shisetsu_cd IS '施設コード';
COMMENT ON COLUMN yoyaku.shisetsu.shubetsu IS '施設種別（野球場、庭球場、体育館、会議室…）';
COMMENT ON COLUMN yoyaku.shisetsu.waku_fun IS '利用枠の長さ（分）: 開館から閉館まで、この長さの枠で貸し出す';
COMMENT ON COLUMN yoyaku.shisetsu.kyukanbi IS '休館曜日（0 = 日曜 … 6 = 土曜）';
COMMENT ON COLUMN yoyaku.shisetsu.ryokin_shinai IS '使用料（1枠、市内在住・在勤・在学）';
COMMENT ON COLUMN yoyaku.shisetsu.ryokin_shigai IS '使用料（1枠、市外）';
COMMENT ON COLUMN yoyaku.shisetsu.uketsuke_nissu IS '受付開始（利用日の何日前から、市内）';
COMMENT ON COLUMN yoyaku.shisetsu.shigai_uketsuke_nissu IS '受付開始（市外）';
COMMENT ON COLUMN yoyaku.shisetsu.shimekiri_jikan IS '受付締切（利用開始の何時間前）';
COMMENT ON COLUMN yoyaku.shisetsu.torikeshi_jikan IS '取消締切（利用開始の何時間前）';
COMMENT ON COLUMN yoyaku.shisetsu.shimin_gentei IS '市民限定（市内在住・在勤・在学のみ）';
COMMENT ON COLUMN yoyaku.shisetsu.web_uketsuke IS 'ウェブ（連携）受付の可否';
COMMENT ON COLUMN yoyaku.shisetsu.haishi_bi IS '廃止日: 設定された施設は貸し出さない';
COMMENT ON COLUMN yoyaku.shisetsu.koshin_no IS '更新番号（yoyaku.koshin_seq）';

CREATE OR REPLACE FUNCTION yoyaku.shisetsu_koshin() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.koshin_no := nextval('yoyaku.koshin_seq');
    NEW.koshin_nichiji := now();
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS shisetsu_koshin ON yoyaku.shisetsu;
CREATE TRIGGER shisetsu_koshin BEFORE UPDATE ON yoyaku.shisetsu
    FOR EACH ROW EXECUTE FUNCTION yoyaku.shisetsu_koshin();

CREATE SEQUENCE IF NOT EXISTS yoyaku.yoyaku_no_seq START 100001;
COMMENT ON SEQUENCE yoyaku.yoyaku_no_seq IS '予約番号';

CREATE TABLE IF NOT EXISTS yoyaku.yoyaku (
    yoyaku_no bigint PRIMARY KEY DEFAULT nextval('yoyaku.yoyaku_no_seq'),
    shisetsu_cd text NOT NULL REFERENCES yoyaku.shisetsu,
    riyo_kikan tstzrange NOT NULL CHECK (NOT isempty(riyo_kikan)),
    jotai text NOT NULL CHECK (jotai IN ('仮予約', '本予約', '取消', '期限切れ')),
    kari_kigen timestamptz,
    riyosha_id text NOT NULL,
    riyo_ninzu int NOT NULL DEFAULT 0,
    riyo_mokuteki text NOT NULL DEFAULT '',
    ryokin int NOT NULL DEFAULT 0,
    uketsuke_keiro text NOT NULL DEFAULT '窓口' CHECK (uketsuke_keiro IN ('窓口', '電話', '連携')),
    torikeshi_riyu text NOT NULL DEFAULT '',
    toroku_nichiji timestamptz NOT NULL DEFAULT now(),
    koshin_nichiji timestamptz NOT NULL DEFAULT now(),
    CHECK (jotai <> '仮予約' OR kari_kigen IS NOT NULL),
    CONSTRAINT yoyaku_jufuku_kinshi EXCLUDE USING gist (shisetsu_cd WITH =, riyo_kikan WITH &&)
        WHERE (jotai IN ('仮予約', '本予約'))
);
COMMENT ON TABLE yoyaku.yoyaku IS '予約台帳';
COMMENT ON COLUMN yoyaku.yoyaku.yoyaku_no IS '予約番号';
COMMENT ON COLUMN yoyaku.yoyaku.riyo_kikan IS '利用期間';
COMMENT ON COLUMN yoyaku.yoyaku.jotai IS '状態: 仮予約（期限まで）、本予約、取消、期限切れ';
COMMENT ON COLUMN yoyaku.yoyaku.kari_kigen IS '仮予約の期限';
COMMENT ON COLUMN yoyaku.yoyaku.riyosha_id IS '利用者ID（連携予約は連携基盤の利用者識別子）';
COMMENT ON COLUMN yoyaku.yoyaku.uketsuke_keiro IS '受付経路: 窓口、電話、連携（Renkei ハブ）';
COMMENT ON CONSTRAINT yoyaku_jufuku_kinshi ON yoyaku.yoyaku IS '二重予約の禁止（仮予約・本予約）';
