-- gp_practice_profile: where each GP practice's registered patients live, summarised for
-- matching practices in `dedi evaluate`: the ICB, sub-ICB and region where most of them live,
-- the share living in rural LSOAs, and their patient-weighted DX and DEDI scores (with deciles
-- among practices). Small patient totals (assets/macros/disclosure.sql) are suppressed.
-- Inputs: stg_gp_patients_lsoa (patients per practice and LSOA), lsoa_index.
WITH pat AS (
    SELECT p.practice_code, p.patients, i.*
    FROM stg_gp_patients_lsoa AS p
    JOIN lsoa_index AS i ON i.lsoa21_code = p.lsoa_code
),
prof AS (
    SELECT
        practice_code,
        sum(patients) AS patients_in_england_lsoas,
        arg_max(icb24_code, patients) AS icb24_code,
        arg_max(region_code, patients) AS region_code,
        sum(patients) FILTER (urban_rural = 'Rural') / sum(patients) AS rural_share,
        sum(patients * dx_score) / sum(patients) AS dx_score,
        sum(patients * dedi_score) / sum(patients) AS dedi_score
    FROM pat
    GROUP BY practice_code
),
main_sicbl AS (
    SELECT p.practice_code, arg_max(g.sicbl24_code, p.patients) AS sicbl24_code
    FROM stg_gp_patients_lsoa AS p JOIN int_lsoa_geography AS g ON g.lsoa21_code = p.lsoa_code
    GROUP BY p.practice_code
)
SELECT
    prof.practice_code,
    published_count(patients_in_england_lsoas) AS patients_in_england_lsoas,
    icb24_code,
    main_sicbl.sicbl24_code,
    region_code,
    CASE WHEN rural_share IS NULL THEN NULL
         WHEN rural_share >= 0.5 THEN 'Rural' ELSE 'Urban' END AS urban_rural,
    rural_share,
    dx_score,
    ntile(10) OVER (ORDER BY dx_score DESC) AS dx_decile,
    dedi_score,
    ntile(10) OVER (ORDER BY dedi_score DESC) AS dedi_decile
FROM prof
LEFT JOIN main_sicbl USING (practice_code)
ORDER BY prof.practice_code
