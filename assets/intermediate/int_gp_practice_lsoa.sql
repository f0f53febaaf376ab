-- int_gp_practice_lsoa: where each GP practice's registered patients live, one row per practice
-- and England LSOA 2021 with the practice's name and its patients there. What a practice's area
-- summaries (area_summary, geography 'gp_practice', each LSOA weighted by these patients) and
-- its published catchment (gp_practice_catchment, without counts) are made of.
-- The one place of the rule: a practice whose patients in England LSOAs are a small count
-- (is_small_count, assets/macros/disclosure.sql) is left out, as are rows of no patients.
-- Inputs:
--   stg_gp_patients_lsoa   NHS Digital patients registered at a GP practice by LSOA
--   stg_gp_practices       NHS ODS epraccur (the practice's name)
--   int_lsoa_geography     the England LSOAs 2021 of this build
WITH pat AS (
    SELECT p.practice_code, p.lsoa_code AS lsoa21_code, p.patients
    FROM stg_gp_patients_lsoa AS p
    JOIN int_lsoa_geography AS g ON g.lsoa21_code = p.lsoa_code
    WHERE p.patients > 0
),
practice AS (
    SELECT practice_code, sum(patients) AS patients_in_england_lsoas
    FROM pat
    GROUP BY practice_code
)
SELECT
    pat.practice_code,
    coalesce(gp.practice_name, pat.practice_code) AS practice_name,
    pat.lsoa21_code,
    pat.patients
FROM pat
JOIN practice USING (practice_code)
LEFT JOIN stg_gp_practices AS gp USING (practice_code)
WHERE NOT is_small_count(practice.patients_in_england_lsoas)
ORDER BY pat.practice_code, pat.lsoa21_code
