SELECT
  DATE_TRUNC('DAY', CAST(order_ts AS TIMESTAMPTZ)) AS period_start,
  year,
  month,
  region,
  state,
  status,
  SUM(revenue) AS revenue,
  SUM(cost) AS cost,
  SUM(profit) AS profit,
  CAST(SUM(quantity) AS BIGINT) AS units,
  COUNT(*) AS orders,
  SUM(discount) AS discount_sum
FROM sales
GROUP BY
  DATE_TRUNC('DAY', CAST(order_ts AS TIMESTAMPTZ)),
  year,
  month,
  region,
  state,
  status
