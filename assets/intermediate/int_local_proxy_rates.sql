-- int_local_proxy_rates: local-authority proxies as rates per LSOA 2021 (one row per LSOA,
-- proxy and vintage supplied). vintage 'current' is what the index uses (stg_local_proxies:
-- files without a period, and the latest period of the others); every dated file is also here
-- under its own period (stg_local_proxy_periods, one Dagster partition per period).
-- Input stg_local_proxies holds counts per LSOA of the supplying LA, with
-- the file's own denominator where given. Otherwise the Census 2021 denominator named in
-- settings.yaml (indicators.local_proxies.denominators) is used. LSOAs outside the supplying
-- LA have no row, so their rate stays missing, never zero.
WITH counts AS (
    SELECT 'current' AS vintage, * FROM stg_local_proxies
    UNION ALL BY NAME
    SELECT period AS vintage, * EXCLUDE (period) FROM stg_local_proxy_periods
),
with_denominator AS (
    SELECT
        p.*,
        COALESCE(p.denominator,
                 CASE p.denominator_name
                     WHEN 'households' THEN hh.households
                     WHEN 'usual_residents' THEN pop.usual_residents
                     WHEN 'children_0_15' THEN kids.children_0_15
                 END) AS denominator_used
    FROM counts AS p
    LEFT JOIN stg_census21_households AS hh ON hh.lsoa21_code = p.lsoa21_code
    LEFT JOIN stg_census21_population AS pop ON pop.lsoa21_code = p.lsoa21_code
    LEFT JOIN stg_census21_children AS kids ON kids.lsoa21_code = p.lsoa21_code
)
SELECT
    vintage,
    la_code,
    proxy,
    lsoa21_code,
    count,
    denominator_used AS denominator,
    CASE WHEN denominator IS NOT NULL THEN 'supplied in file'
         ELSE 'Census 2021 ' || denominator_name END AS denominator_source,
    100.0 * count / nullif(denominator_used, 0) AS rate_pct,
    data_status,
    source_file
FROM with_denominator
ORDER BY vintage, proxy, lsoa21_code
