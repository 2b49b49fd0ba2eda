SELECT
  CAST(DATE_TRUNC(sold_date, MONTH) AS TIMESTAMP) AS period_start,
  year,
  month,
  store.s_store_name AS store,
  store.s_city AS store_city,
  store.s_state AS store_state,
  SUM(ss_ext_sales_price) AS sales,
  SUM(ss_net_profit) AS net_profit,
  CAST(SUM(ss_quantity) AS INT64) AS units,
  COUNT(*) AS lines
FROM store_sales
LEFT JOIN store AS store
  ON store_sales.ss_store_sk = store.s_store_sk
GROUP BY
  DATE_TRUNC(sold_date, MONTH),
  year,
  month,
  store.s_store_name,
  store.s_city,
  store.s_state
