SELECT
  CAST(DATE_TRUNC(sold_date, MONTH) AS TIMESTAMP) AS period_start,
  year,
  month,
  promotion.p_promo_name AS promotion,
  SUM(ss_ext_sales_price) AS sales,
  SUM(ss_net_profit) AS net_profit,
  CAST(SUM(ss_quantity) AS INT64) AS units,
  COUNT(*) AS lines
FROM store_sales
LEFT JOIN promotion AS promotion
  ON store_sales.ss_promo_sk = promotion.p_promo_sk
GROUP BY
  DATE_TRUNC(sold_date, MONTH),
  year,
  month,
  promotion.p_promo_name
