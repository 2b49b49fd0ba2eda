SELECT
  CAST(DATE_TRUNC(sold_date, YEAR) AS TIMESTAMP) AS period_start,
  year,
  item.i_category AS category,
  store.s_store_name AS store,
  SUM(ss_ext_sales_price) AS sales,
  SUM(ss_net_profit) AS net_profit,
  CAST(SUM(ss_quantity) AS INT64) AS units,
  COUNT(*) AS lines
FROM store_sales
LEFT JOIN item AS item
  ON store_sales.ss_item_sk = item.i_item_sk
LEFT JOIN store AS store
  ON store_sales.ss_store_sk = store.s_store_sk
GROUP BY
  DATE_TRUNC(sold_date, YEAR),
  year,
  item.i_category,
  store.s_store_name
