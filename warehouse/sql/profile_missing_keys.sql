-- Distinct non-null values of a child column that are no value of a parent's key column, with the
-- smallest of them as an example (0 missing: the child's values are contained in the parent key).
--   $child          the child table
--   $column         the child column
--   $parent         the parent table
--   $parent_column  the parent's key column, qualified by `parent`
SELECT count(*) AS missing, min(child_values.v) AS example
FROM (SELECT DISTINCT $column AS v FROM $child WHERE $column IS NOT NULL) AS child_values
WHERE NOT EXISTS (SELECT 1 FROM $parent AS parent WHERE $parent_column = child_values.v)
