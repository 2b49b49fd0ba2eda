-- Statistics of one table in a single scan (retail_insights.onboarding.profile): the row count, then
-- per column the aggregates the profiler asks for (non-null count, distinct count, min, max, ...).
--   $table     the profiled table
--   $measures  aliased aggregate select items
SELECT count(*) AS row_count, $measures
FROM $table
