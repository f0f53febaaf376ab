-- lsoa_index_history: the IMD 2019 and the IMD 2025 on one geography, LSOA 2021: one row per
-- LSOA and vintage (2 x the LSOAs of File 7).
--
-- Inputs:
--   stg_iod2025          IoD 2025 File 7 (LSOA 2021): ranks as published, out of N25 LSOAs
--   int_imd2019_lsoa21   IoD 2019 File 7 harmonised from LSOA 2011 with the ONS lookup:
--                        U carried over, S copied to each part, M and X the mean of the 2011
--                        ranks (ranks out of N19 = 32,844 LSOAs 2011)
--   iod_method_changes   per domain: comparable across the releases? (settings.yaml)
--   iod_releases         how many LSOAs each release ranks (33,755 in 2025, 32,844 in 2019)
--
-- Ranks are RELATIVE: a change says an LSOA moved against the others, not that it became
-- more or less deprived in absolute terms. The two releases rank different numbers of LSOAs,
-- so they are compared as percentiles: 100 x rank / N (near 0 = most deprived).
-- comparable: false where the geography changed in a complex way (X) or no 2019 value
-- exists; <domain>_comparable: also false where the IoD 2025 changed the domain materially.
WITH n AS (SELECT max(lsoas_ranked) FILTER (vintage = 2025) AS n25,
                  max(lsoas_ranked) FILTER (vintage = 2019) AS n19 FROM iod_releases),
m AS (SELECT domain, comparable FROM iod_method_changes),
geo AS (
    SELECT i.lsoa21_code, i.lsoa21_name,
           coalesce(p.imd2019_change_code, 'no 2019 value') AS change_code,
           p.imd2019_rank_harmonised IS NOT NULL
             AND coalesce(p.imd2019_change_code, 'X') <> 'X' AS geography_comparable
    FROM stg_iod2025 i LEFT JOIN int_imd2019_lsoa21 p USING (lsoa21_code)
),
v2019 AS (
    SELECT 2019 AS vintage, g.lsoa21_code, g.lsoa21_name, g.change_code,
           g.geography_comparable AS comparable,
           p.imd2019_rank_harmonised AS imd_rank, p.imd2019_decile_harmonised AS imd_decile,
           100 * p.imd2019_rank_harmonised / n.n19 AS imd_percentile,
           p.income2019_rank AS income_rank, p.employment2019_rank AS employment_rank,
           p.education2019_rank AS education_rank, p.health2019_rank AS health_rank,
           p.crime2019_rank AS crime_rank, p.barriers2019_rank AS barriers_rank,
           p.living_environment2019_rank AS living_environment_rank, n.n19 AS lsoas_ranked
    FROM geo g CROSS JOIN n LEFT JOIN int_imd2019_lsoa21 p USING (lsoa21_code)
),
v2025 AS (
    SELECT 2025 AS vintage, g.lsoa21_code, g.lsoa21_name, g.change_code,
           g.geography_comparable AS comparable,
           i.imd_rank::DOUBLE AS imd_rank, i.imd_decile::DOUBLE AS imd_decile,
           100 * i.imd_rank / n.n25 AS imd_percentile,
           i.income_rank::DOUBLE, i.employment_rank::DOUBLE, i.education_rank::DOUBLE,
           i.health_rank::DOUBLE, i.crime_rank::DOUBLE, i.barriers_rank::DOUBLE,
           i.living_environment_rank::DOUBLE, n.n25 AS lsoas_ranked
    FROM geo g CROSS JOIN n JOIN stg_iod2025 i USING (lsoa21_code)
),
both_vintages AS (SELECT * FROM v2019 UNION ALL SELECT * FROM v2025)
SELECT b.*,
       -- change since 2019, on the 2025 rows (negative = moved towards the most deprived)
       CASE WHEN b.vintage = 2025 THEN b.imd_percentile - p.imd_percentile END
           AS imd_percentile_change,
       CASE WHEN b.vintage = 2025 THEN b.imd_decile - p.imd_decile END AS imd_decile_change,
       b.comparable AND (SELECT comparable FROM m WHERE domain = 'income') AS income_comparable,
       b.comparable AND (SELECT comparable FROM m WHERE domain = 'employment')
           AS employment_comparable,
       b.comparable AND (SELECT comparable FROM m WHERE domain = 'education')
           AS education_comparable,
       b.comparable AND (SELECT comparable FROM m WHERE domain = 'health') AS health_comparable,
       b.comparable AND (SELECT comparable FROM m WHERE domain = 'crime') AS crime_comparable,
       b.comparable AND (SELECT comparable FROM m WHERE domain = 'barriers')
           AS barriers_comparable,
       b.comparable AND (SELECT comparable FROM m WHERE domain = 'living_environment')
           AS living_environment_comparable
FROM both_vintages b
LEFT JOIN v2019 p ON p.lsoa21_code = b.lsoa21_code
ORDER BY b.lsoa21_code, b.vintage
