SELECT
  CAST(DATE_TRUNC('DAY', order_date) AS TIMESTAMPTZ) AS period_start,
  year,
  month,
  SUM(sales) AS sales,
  SUM(profit) AS profit,
  CAST(SUM(quantity) AS BIGINT) AS quantity,
  COUNT(*) AS order_lines,
  SUM(discount) AS discount_sum,
  CAST(SUM(days_to_ship) AS BIGINT) AS days_to_ship_sum
FROM superstore
GROUP BY
  DATE_TRUNC('DAY', order_date),
  year,
  month
