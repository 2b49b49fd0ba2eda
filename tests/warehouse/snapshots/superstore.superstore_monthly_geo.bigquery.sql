SELECT
  CAST(DATE_TRUNC(order_date, MONTH) AS TIMESTAMP) AS period_start,
  year,
  month,
  region,
  state,
  segment,
  SUM(sales) AS sales,
  SUM(profit) AS profit,
  CAST(SUM(quantity) AS INT64) AS quantity,
  COUNT(*) AS order_lines,
  SUM(discount) AS discount_sum,
  CAST(SUM(days_to_ship) AS INT64) AS days_to_ship_sum
FROM superstore
GROUP BY
  DATE_TRUNC(order_date, MONTH),
  year,
  month,
  region,
  state,
  segment
