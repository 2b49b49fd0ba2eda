-- A gold view derived from a finer aggregate of the same measures (a staged aggregate of silver,
-- or another view's rows): re-bucketed to a coarser grain, summed over the dimensions it drops.
-- Rendered by warehouse.rollups:
--   $grain       bucket unit ('hour', 'day', 'month', 'year'), as fine as the source's or coarser
--   $partitions  year, month (a yearly view keeps year only)
--   $dimensions  the view's dimensions, a subset of the source's
--   $measures    CAST(SUM(measure) AS <its type>) AS measure: sums of sums keep the stored types
--   $source      the finer rows (a table, or a UNION ALL of several as a subquery)
-- Every measure is additive and period_start is already a UTC bucket start, so truncating it again
-- and summing gives what view_rollup.sql gives over the silver rows.
SELECT
    DATE_TRUNC($grain, period_start) AS period_start,
    $partitions,
    $dimensions,
    $measures
FROM $source
GROUP BY
    DATE_TRUNC($grain, period_start),
    $partitions,
    $dimensions
