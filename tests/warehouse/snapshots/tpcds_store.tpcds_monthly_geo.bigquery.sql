SELECT
  CAST(DATE_TRUNC(sold_date, MONTH) AS TIMESTAMP) AS period_start,
  year,
  month,
  address.ca_state AS state,
  SUM(ss_ext_sales_price) AS sales,
  SUM(ss_net_profit) AS net_profit,
  CAST(SUM(ss_quantity) AS INT64) AS units,
  COUNT(*) AS lines
FROM store_sales
LEFT JOIN customer_address AS address
  ON store_sales.ss_addr_sk = address.ca_address_sk
GROUP BY
  DATE_TRUNC(sold_date, MONTH),
  year,
  month,
  address.ca_state
