-- How many distinct combinations of some columns a table holds (equal to its row count: a key).
--   $table    the profiled table
--   $columns  the columns
SELECT count(*) AS combinations
FROM (SELECT DISTINCT $columns FROM $table) AS combos
