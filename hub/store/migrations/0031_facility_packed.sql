-- 0031_facility_packed: each facility also as the packed protobuf its adapter listed.
--
-- SearchFacilities and GetFacility answer with the stored Facility of every hit: unpacking the
-- protobuf costs the hub a fraction of parsing the JSON body and converting it, and PostgreSQL
-- sends bytes instead of writing jsonb out as text. The catalogue sync writes it beside body
-- (which stays: filters, the change feed and partners read the JSON); rows not synced since
-- this migration have none, and search falls back to their body until the next sync fills it.
ALTER TABLE rk_facility ADD COLUMN packed bytea;
