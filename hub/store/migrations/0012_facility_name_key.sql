-- 0012_facility_name_key: each facility's names as one matching key for free-text search
-- (hub/facility/kinds.h): rk_facility_name_key() of its reading, Japanese and English names,
-- one per line, folded by hub/core/kana.c (NFKC, lower case, hiragana, long vowels dropped).
-- The catalogue sync writes it with the row; SearchFacilities looks for the query's words in
-- it (RK_FACILITY_QUERY_SQL). Every adapter is listed in full at its next sync, so that rows
-- stored before this migration get their key.
ALTER TABLE rk_facility ADD COLUMN name_key text NOT NULL DEFAULT '';
UPDATE rk_facility_sync SET change_token = '';
