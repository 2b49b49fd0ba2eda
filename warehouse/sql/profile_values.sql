-- The distinct non-null values of one column, in order (a low-cardinality column's members).
--   $table   the profiled table
--   $column  the column
SELECT DISTINCT $column AS member
FROM $table
WHERE $column IS NOT NULL
ORDER BY member
