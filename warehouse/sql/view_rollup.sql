-- A gold view: the silver table summed per time bucket and per view dimension.
-- Rendered per view by warehouse.rollups from the semantic model:
--   $grain              bucket unit ('hour', 'day', 'month', 'year')
--   $time_column        the event time (order_ts; superstore: order_date), bucketed in UTC
--   $partitions         year, month (the yearly view keeps year only)
--   $dimensions         the view's dimensions (view_columns.dimensions, or a rollup's subset),
--                       each named after its dimension
--   $dimension_columns  the same columns as grouping keys
--   $measures           view_columns.measures, additive, each named after its key
--   $silver             the silver table
-- Every measure is additive, so summing a view over any filter on its columns equals the same
-- aggregate over the silver rows (tests/warehouse/test_views.py checks this property).
SELECT
    DATE_TRUNC($grain, CAST($time_column AS TIMESTAMPTZ)) AS period_start,
    $partitions,
    $dimensions,
    $measures
FROM $silver
GROUP BY
    DATE_TRUNC($grain, CAST($time_column AS TIMESTAMPTZ)),
    $partitions,
    $dimension_columns
