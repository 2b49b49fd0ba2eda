SELECT
  CAST(DATE_TRUNC('MONTH', order_date) AS TIMESTAMPTZ) AS period_start,
  year,
  month,
  category,
  sub_category,
  segment,
  ship_mode,
  SUM(sales) AS sales,
  SUM(profit) AS profit,
  CAST(SUM(quantity) AS BIGINT) AS quantity,
  COUNT(*) AS order_lines,
  SUM(discount) AS discount_sum,
  CAST(SUM(days_to_ship) AS BIGINT) AS days_to_ship_sum
FROM superstore
GROUP BY
  DATE_TRUNC('MONTH', order_date),
  year,
  month,
  category,
  sub_category,
  segment,
  ship_mode
