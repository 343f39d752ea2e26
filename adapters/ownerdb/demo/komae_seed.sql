-- komae_seed.sql — demo data for 狛江市's own reservation system (schema yoyaku): its sports
-- facilities and a few bookings made at the counter (窓口), which the hub sees as BOOKED.
-- Run once by renkei-adapter-ownerdb when it creates the schema (ownerdb.seed_file). Names
-- and coordinates are illustrative (the town, not the street number).
INSERT INTO yoyaku.shisetsu (shisetsu_cd, shisetsu_mei, shisetsu_mei_kana, shisetsu_mei_en,
    basho_cd, basho_mei, shubetsu, teiin, yubin_no, jusho, ido, keido, kaikan, heikan,
    waku_fun, kyukanbi, ryokin_shinai, ryokin_shigai, uketsuke_nissu, shigai_uketsuke_nissu,
    shimekiri_jikan, torikeshi_jikan, shimin_gentei, web_uketsuke)
VALUES
    ('TAI-01', '市民総合体育館 第1体育室', 'シミンソウゴウタイイクカン ダイイチタイイクシツ',
     'Komae Sports Centre, Arena 1', 'TAI', '市民総合体育館', '体育館', 200, '201-0005',
     '東京都狛江市西和泉', 35.6365, 139.5735, '09:00', '21:00', 120, 1, 2400, 3600, 60, 30, 1, 24,
     false, true),
    ('TAI-02', '市民総合体育館 第2体育室', 'シミンソウゴウタイイクカン ダイニタイイクシツ',
     'Komae Sports Centre, Arena 2', 'TAI', '市民総合体育館', '体育室', 80, '201-0005',
     '東京都狛江市西和泉', 35.6365, 139.5735, '09:00', '21:00', 120, 1, 1200, 1800, 60, 30, 1, 24,
     false, true),
    ('TAI-03', '市民総合体育館 武道場', 'シミンソウゴウタイイクカン ブドウジョウ',
     'Komae Sports Centre, Martial Arts Hall', 'TAI', '市民総合体育館', '武道場', 60, '201-0005',
     '東京都狛江市西和泉', 35.6365, 139.5735, '09:00', '21:00', 120, 1, 1000, 1500, 60, 30, 1, 24,
     true, true),
    ('NSK-T1', '西河原公園 庭球場 A面', 'ニシカワラコウエン テイキュウジョウ エーメン',
     'Nishikawara Park Tennis Court A', 'NSK', '西河原公園', '庭球場', 4, '201-0013',
     '東京都狛江市元和泉', 35.6352, 139.5767, '08:00', '20:00', 60, NULL, 600, 900, 60, 30, 1, 24,
     false, true),
    ('NSK-T2', '西河原公園 庭球場 B面', 'ニシカワラコウエン テイキュウジョウ ビーメン',
     'Nishikawara Park Tennis Court B', 'NSK', '西河原公園', '庭球場', 4, '201-0013',
     '東京都狛江市元和泉', 35.6352, 139.5767, '08:00', '20:00', 60, NULL, 600, 900, 60, 30, 1, 24,
     false, true),
    ('TMG-B1', '多摩川緑地公園グラウンド 野球場', 'タマガワリョクチコウエングラウンド ヤキュウジョウ',
     'Tamagawa Riverside Ground, Baseball Field', 'TMG', '多摩川緑地公園グラウンド', '野球場', 40,
     '201-0003', '東京都狛江市和泉本町', 35.6281, 139.5792, '07:00', '17:00', 120, NULL, 3000,
     4500, 60, 30, 1, 48, false, true),
    ('TMG-S1', '多摩川緑地公園グラウンド 少年野球場', 'タマガワリョクチコウエングラウンド ショウネンヤキュウジョウ',
     'Tamagawa Riverside Ground, Junior Baseball Field', 'TMG', '多摩川緑地公園グラウンド',
     '少年野球場', 30, '201-0003', '東京都狛江市和泉本町', 35.6279, 139.5801, '07:00', '17:00', 120,
     NULL, 1500, 2300, 60, 30, 1, 48, false, true),
    ('KOM-K1', '中央公民館 第1会議室', 'チュウオウコウミンカン ダイイチカイギシツ',
     'Central Community Hall, Meeting Room 1', 'KOM', '中央公民館', '会議室', 30, '201-0012',
     '東京都狛江市中和泉', 35.6388, 139.5786, '09:00', '22:00', 60, 0, 400, 800, 60, 30, 1, 24,
     false, false)
ON CONFLICT DO NOTHING;

-- Bookings taken at the counter for the coming days (the hub never made them).
INSERT INTO yoyaku.yoyaku (shisetsu_cd, riyo_kikan, jotai, riyosha_id, riyo_ninzu,
                           riyo_mokuteki, ryokin, uketsuke_keiro)
SELECT cd, tstzrange(t, t + make_interval(mins => m)), '本予約', 'M' || lpad(n::text, 5, '0'), 10,
       '定期練習', fee, '窓口'
  FROM (VALUES ('TMG-B1', 2, '09:00'::time, 120, 3000, 1),
               ('NSK-T1', 3, '10:00'::time, 60, 600, 2),
               ('TAI-01', 4, '13:00'::time, 120, 2400, 3)) AS v(cd, days, at, m, fee, n),
       LATERAL (SELECT (date_trunc('day', now() AT TIME ZONE 'Asia/Tokyo')
                        + make_interval(days => days) + at) AT TIME ZONE 'Asia/Tokyo' AS t) x;
