SELECT
  CAST(DATE_TRUNC(sold_date, MONTH) AS TIMESTAMP) AS period_start,
  year,
  month,
  item.i_category AS category,
  item.i_class AS class,
  item.i_brand AS brand,
  SUM(ss_ext_sales_price) AS sales,
  SUM(ss_net_profit) AS net_profit,
  CAST(SUM(ss_quantity) AS INT64) AS units,
  COUNT(*) AS lines
FROM store_sales
LEFT JOIN item AS item
  ON store_sales.ss_item_sk = item.i_item_sk
GROUP BY
  DATE_TRUNC(sold_date, MONTH),
  year,
  month,
  item.i_category,
  item.i_class,
  item.i_brand
