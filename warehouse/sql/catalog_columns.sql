-- Columns of every table and view in the given schemas (one schema per dataset), for the SQL guard.
-- ? : the schema names, bound as a list.
SELECT schema_name, table_name, column_name, data_type
FROM duckdb_columns()
WHERE list_contains(?, schema_name)
ORDER BY schema_name, table_name, column_index
