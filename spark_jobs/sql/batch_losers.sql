-- Staged rows of one batch that lose to another version of the same key (SPEC 1.2): the latest
-- :order wins; on a tie, the row that arrived last (file order, then line). Rendered by
-- spark_jobs.dedupe; ? is the list of staged files, `arrival` maps each file to its file order.
--   :key    the dataset's key columns
--   :order  the version column (updated_at), or NULL when only arrival decides (superstore)
-- Only key, order and lineage columns are read; DuckDB spills to disk, so memory stays bounded.
WITH staged AS (
    SELECT source_line, filename, :order AS version_order, :key
    FROM read_parquet(?, filename = true)
),
repeated AS (
    SELECT count(*) AS versions, :key
    FROM staged
    GROUP BY :key
    HAVING count(*) > 1
)
SELECT filename, source_line
FROM (
    SELECT
        staged.filename,
        staged.source_line,
        row_number() OVER (
            PARTITION BY :key
            ORDER BY version_order DESC NULLS LAST, arrival.file_index DESC, staged.source_line DESC
        ) AS newest_first
    FROM staged
    SEMI JOIN repeated USING (:key)
    JOIN arrival USING (filename)
)
WHERE newest_first > 1
