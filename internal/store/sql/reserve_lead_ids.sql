-- Takes $1 ids from the leads' sequence, for leads inserted later with
-- them (insert_first_signups). An id taken and never used is a gap, as a
-- rolled-back insert leaves one.
SELECT nextval(pg_get_serial_sequence('leads', 'id')) FROM generate_series(1, $1)
