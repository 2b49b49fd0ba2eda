SELECT
  CAST(DATE_TRUNC('MONTH', sold_date) AS TIMESTAMPTZ) AS period_start,
  year,
  month,
  SUM(ss_ext_sales_price) AS sales,
  SUM(ss_net_profit) AS net_profit,
  CAST(SUM(ss_quantity) AS BIGINT) AS units,
  COUNT(*) AS lines,
  COUNT(DISTINCT ss_ticket_number) AS tickets,
  COUNT(DISTINCT ss_customer_sk) AS customers
FROM store_sales
GROUP BY
  DATE_TRUNC('MONTH', sold_date),
  year,
  month
