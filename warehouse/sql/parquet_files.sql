-- One partition of a Delta snapshot as plain Parquet, for the DuckDB database file.
--   $columns  the table's columns in schema order; partition columns are typed constants
--   $files    the partition's data files (absolute paths, from the Delta log)
SELECT $columns
FROM read_parquet($files, union_by_name = TRUE)
