-- local_proxy_history: local-authority proxies per LSOA 2021 for every period a file carries
-- (<raw>/local/<LA code>/<proxy>_<period>.csv; one Dagster partition per period). The latest
-- period of each LA and proxy is also the current value in lsoa_indicators. Small counts
-- (assets/macros/disclosure.sql) are suppressed (NULL) with the rate they would reveal.
-- Input: int_local_proxy_rates (its dated vintages).
SELECT
    vintage AS period,
    la_code,
    proxy,
    lsoa21_code,
    published_count(count) AS count,
    denominator,
    denominator_source,
    CASE WHEN is_small_count(count) THEN NULL ELSE rate_pct END AS rate_pct,
    source_file
FROM int_local_proxy_rates
WHERE vintage <> 'current'
ORDER BY period, la_code, proxy, lsoa21_code
