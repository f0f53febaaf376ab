-- int_file7_lsoa_coverage (a view): the LSOAs of IoD File 7 that a geography file lacks, one
-- row per (file, LSOA), read by the check lookups_cover_file7. lsoa_2011_only marks a File 7
-- code that is an LSOA 2011 code and no LSOA 2021 code (File 7 itself on the 2011 geography).
-- Inputs: stg_iod2025, stg_lsoa21_ltla24, stg_lsoa21_icb24, stg_lsoa21_boundaries,
--   stg_lsoa11_lsoa21 (empty when no 2011 -> 2021 lookup is supplied).
WITH gaps AS (
    SELECT 'stg_lsoa21_ltla24' AS staging_table, lsoa21_code FROM stg_iod2025
    WHERE lsoa21_code NOT IN (SELECT lsoa21_code FROM stg_lsoa21_ltla24)
    UNION ALL
    SELECT 'stg_lsoa21_icb24', lsoa21_code FROM stg_iod2025
    WHERE lsoa21_code NOT IN (SELECT lsoa21_code FROM stg_lsoa21_icb24)
    UNION ALL
    SELECT 'stg_lsoa21_boundaries', lsoa21_code FROM stg_iod2025
    WHERE lsoa21_code NOT IN (SELECT lsoa21_code FROM stg_lsoa21_boundaries)
)
SELECT
    staging_table,
    lsoa21_code,
    lsoa21_code IN (SELECT lsoa11_code FROM stg_lsoa11_lsoa21)
        AND lsoa21_code NOT IN (SELECT lsoa21_code FROM stg_lsoa11_lsoa21) AS lsoa_2011_only
FROM gaps
ORDER BY staging_table, lsoa21_code
