-- 0033_facility_booking_window: a facility's booking window in a column of its own.
--
-- Search answers every hit with the caller's window (rk_facility_opens_days over the facility's
-- bookingWindow); reading it out of body detoasted the whole JSON body per hit (~70 us, 3.6 of
-- 7 ms for a page of 51). A stored generated column keeps the small object beside the row.
ALTER TABLE rk_facility
    ADD COLUMN booking_window jsonb GENERATED ALWAYS AS (body -> 'bookingWindow') STORED;
