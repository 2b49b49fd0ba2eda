SELECT
  CAST(DATE_TRUNC('QUARTER', sold_date) AS TIMESTAMPTZ) AS period_start,
  year,
  item.i_category AS category,
  SUM(ss_ext_sales_price) AS sales,
  SUM(ss_net_profit) AS net_profit,
  CAST(SUM(ss_quantity) AS BIGINT) AS units,
  COUNT(*) AS lines,
  COUNT(DISTINCT ss_ticket_number) AS tickets,
  COUNT(DISTINCT ss_customer_sk) AS customers
FROM store_sales
LEFT JOIN item AS item
  ON store_sales.ss_item_sk = item.i_item_sk
GROUP BY
  DATE_TRUNC('QUARTER', sold_date),
  year,
  item.i_category
