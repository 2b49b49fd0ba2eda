-- Whether an integer key is a day number: key minus the days since 1970-01-01 of a date column is the
-- same on every row (TPC-DS's Julian day keys). One offset: the key is a day number, date = epoch +
-- (key - offset).
--   $table  the profiled table
--   $key    the integer key
--   $day    the date column
SELECT count(DISTINCT $key - date_diff('day', DATE '1970-01-01', $day)) AS offsets,
       min($key - date_diff('day', DATE '1970-01-01', $day)) AS day_offset
FROM $table
WHERE $day IS NOT NULL
