SELECT
  CAST(DATE_TRUNC(order_date, DAY) AS TIMESTAMP) AS period_start,
  year,
  month,
  category,
  sub_category,
  segment,
  ship_mode,
  region,
  state,
  SUM(sales) AS sales,
  SUM(profit) AS profit,
  CAST(SUM(quantity) AS INT64) AS quantity,
  COUNT(*) AS order_lines,
  SUM(discount) AS discount_sum,
  CAST(SUM(days_to_ship) AS INT64) AS days_to_ship_sum
FROM superstore
GROUP BY
  DATE_TRUNC(order_date, DAY),
  year,
  month,
  category,
  sub_category,
  segment,
  ship_mode,
  region,
  state
