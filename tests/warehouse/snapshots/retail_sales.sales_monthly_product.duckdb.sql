SELECT
  DATE_TRUNC('MONTH', CAST(order_ts AS TIMESTAMPTZ)) AS period_start,
  year,
  month,
  category,
  sub_category,
  channel,
  segment,
  status,
  SUM(revenue) AS revenue,
  SUM(cost) AS cost,
  SUM(profit) AS profit,
  CAST(SUM(quantity) AS BIGINT) AS units,
  COUNT(*) AS orders,
  SUM(discount) AS discount_sum
FROM sales
GROUP BY
  DATE_TRUNC('MONTH', CAST(order_ts AS TIMESTAMPTZ)),
  year,
  month,
  category,
  sub_category,
  channel,
  segment,
  status
