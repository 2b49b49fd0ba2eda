SELECT
  CAST(DATE_TRUNC('MONTH', sold_date) AS TIMESTAMPTZ) AS period_start,
  year,
  month,
  address.ca_state AS state,
  SUM(ss_ext_sales_price) AS sales,
  SUM(ss_net_profit) AS net_profit,
  CAST(SUM(ss_quantity) AS BIGINT) AS units,
  COUNT(*) AS lines
FROM store_sales
LEFT JOIN customer_address AS address
  ON store_sales.ss_addr_sk = address.ca_address_sk
GROUP BY
  DATE_TRUNC('MONTH', sold_date),
  year,
  month,
  address.ca_state
