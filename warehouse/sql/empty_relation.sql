-- A table that was not written yet: its columns, typed, and no rows.
--   $columns  CAST(NULL AS <type>) AS <name>, one per column
SELECT $columns
WHERE FALSE
