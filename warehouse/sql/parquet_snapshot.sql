-- A partitioned Delta snapshot as plain Parquet in one scan (no UNION to plan per query).
--   $columns     the table's columns in schema order
--   $files       the data files (absolute paths, from the Delta log)
--   $hive_types  the partition columns' types; their values come from the hive-style folder
--                names, which the caller has checked against the Delta log's values
SELECT $columns
FROM read_parquet($files, union_by_name = TRUE, hive_partitioning = TRUE, hive_types = $hive_types)
