-- Staged rows of one batch that lose to another version of the same key (SPEC 1.2): the latest
-- $order wins; on a tie, the row that arrived last (file order, then line). Rendered by
-- spark_jobs.dedupe; ? is the list of staged files, `arrival` numbers them and gives each its
-- source file's position.
--   $key    the dataset's key columns
--   $order  the version column (updated_at), or NULL when only arrival decides (superstore)
-- The files are scanned once (MATERIALIZED) and only key, order and line are read; DuckDB
-- spills to disk beyond its memory limit, so memory stays bounded for any batch size.
WITH staged AS MATERIALIZED (
    SELECT arrival.file_no, arrival.file_index, source_line, $order AS version_order, $key
    FROM read_parquet(?, filename = true) AS rows
    JOIN arrival USING (filename)
),
repeated AS (
    SELECT count(*) AS versions, $key
    FROM staged
    GROUP BY $key
    HAVING count(*) > 1
)
SELECT file_no, source_line
FROM (
    SELECT
        file_no,
        source_line,
        row_number() OVER (
            PARTITION BY $key
            ORDER BY version_order DESC NULLS LAST, file_index DESC, source_line DESC
        ) AS newest_first
    FROM staged
    SEMI JOIN repeated USING ($key)
)
WHERE newest_first > 1
