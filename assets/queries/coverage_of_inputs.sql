-- Which inputs this build had: supplied or absent, how many LSOAs have a value, source and vintage.
SELECT indicator, supplied, lsoas_with_value, lsoas_imputed,
       round(100 * share_with_value, 1) AS pct_with_value, vintage, source
FROM coverage
ORDER BY supplied DESC, indicator
