SELECT
  TIMESTAMP_TRUNC(CAST(order_ts AS TIMESTAMP), DAY) AS period_start,
  year,
  month,
  region,
  state,
  status,
  SUM(revenue) AS revenue,
  SUM(cost) AS cost,
  SUM(profit) AS profit,
  CAST(SUM(quantity) AS INT64) AS units,
  COUNT(*) AS orders,
  SUM(discount) AS discount_sum
FROM sales
GROUP BY
  TIMESTAMP_TRUNC(CAST(order_ts AS TIMESTAMP), DAY),
  year,
  month,
  region,
  state,
  status
