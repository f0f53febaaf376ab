-- int_nhs_app_uptake_lsoa_monthly: NHS App uptake per LSOA 2021 and month, apportioned from GP
-- practices by where their registered patients live.
--
--   uptake(LSOA, m) = SUM over practices p of ( registrations_p,m * patients_p,LSOA / patients_p )
--                     / SUM over practices p of patients_p,LSOA
--
-- patients_p is the practice's whole registered list (wherever patients live, Wales
-- included). The patients-by-LSOA extract is one snapshot, used for every month. Practices
-- are used when they appear in both files and are not closed in epraccur. LSOAs with fewer
-- than getvariable('min_registered_patients') patients over the practices used get no value,
-- and neither do LSOAs served by a practice with a small registrations count, or with a small
-- apportioned count (assets/macros/disclosure.sql): published uptakes, list sizes and the
-- public patients-by-LSOA file would give those counts back.
-- Inputs:
--   stg_nhs_app_practice_monthly   registrations per practice and month (one partition a month)
--   stg_gp_patients_lsoa           patients per practice and LSOA (NHS Digital)
--   stg_gp_practices               epraccur: status_code C = closed
WITH practice_list AS (
    SELECT practice_code, sum(patients) AS practice_patients
    FROM stg_gp_patients_lsoa
    GROUP BY practice_code
),
practices_used AS (
    SELECT app.month, app.practice_code, app.registrations, lst.practice_patients
    FROM stg_nhs_app_practice_monthly AS app
    JOIN practice_list AS lst ON lst.practice_code = app.practice_code
    LEFT JOIN stg_gp_practices AS ods ON ods.practice_code = app.practice_code
    WHERE COALESCE(ods.status_code, 'A') <> 'C'
      AND lst.practice_patients > 0
),
by_lsoa AS (
    SELECT
        used.month,
        pat.lsoa_code AS lsoa21_code,
        sum(used.registrations * pat.patients / used.practice_patients) AS registrations_apportioned,
        sum(pat.patients) AS registered_patients,
        count(DISTINCT pat.practice_code) AS practices,
        -- a practice with a small registrations count: LSOA uptakes and the public patients
        -- file would give it back (a linear system), so no LSOA it serves gets an uptake
        bool_or(is_small_count(used.registrations)) AS small_practice_count
    FROM stg_gp_patients_lsoa AS pat
    JOIN practices_used AS used ON used.practice_code = pat.practice_code
    WHERE regexp_matches(pat.lsoa_code, '^E01[0-9]{6}$')
    GROUP BY used.month, pat.lsoa_code
)
SELECT
    month,
    lsoa21_code,
    registered_patients,
    practices,
    registrations_apportioned,
    CASE WHEN registered_patients >= getvariable('min_registered_patients')
              AND NOT small_practice_count AND NOT is_small_count(registrations_apportioned)
         THEN registrations_apportioned / registered_patients END AS nhs_app_uptake
FROM by_lsoa
ORDER BY month, lsoa21_code
