-- int_nhs_app_apportionment: what the NHS App apportionment could and could not use (one row),
-- reported with int_nhs_app_uptake_lsoa. Inputs: stg_nhs_app_practice, stg_gp_patients_lsoa,
-- stg_gp_practices, int_nhs_app_uptake_lsoa, int_lsoa_geography. The asset stops the build when
-- the two files share too few practice codes, or the patients' LSOA codes are not this build's
-- (raw_checks.max_share_unmatched): supplied files that do not join are an error, not absent.
WITH app AS (SELECT DISTINCT practice_code FROM stg_nhs_app_practice),
     pat AS (SELECT DISTINCT practice_code FROM stg_gp_patients_lsoa)
SELECT
    (SELECT count(*) FROM app) AS practices_in_app_file,
    (SELECT count(*) FROM pat) AS practices_in_patients_file,
    (SELECT count(*) FROM app WHERE practice_code NOT IN (SELECT * FROM pat))
        AS practices_in_app_file_not_in_patients_file,
    (SELECT string_agg(practice_code, ', ') FROM (
        SELECT practice_code FROM app WHERE practice_code NOT IN (SELECT * FROM pat)
        ORDER BY 1 LIMIT 3)) AS examples_app_practices_not_in_patients_file,
    (SELECT count(*) FROM pat WHERE practice_code NOT IN (SELECT * FROM app))
        AS practices_in_patients_file_not_in_app_file,
    (SELECT coalesce(sum(patients), 0) FROM stg_gp_patients_lsoa
       WHERE practice_code NOT IN (SELECT * FROM app))
        AS patients_of_practices_without_app_data,
    (SELECT count(*) FROM stg_nhs_app_practice a JOIN stg_gp_practices g USING (practice_code)
       WHERE g.status_code = 'C') AS closed_practices_with_app_data_excluded,
    (SELECT count(*) FROM int_nhs_app_uptake_lsoa WHERE nhs_app_uptake IS NULL)
        AS lsoas_below_min_registered_patients,
    (SELECT count(*) FROM stg_gp_patients_lsoa WHERE NOT regexp_matches(lsoa_code, '^E01[0-9]{6}$'))
        AS patient_rows_outside_england_lsoas,
    (SELECT count(*) FROM stg_gp_patients_lsoa WHERE regexp_matches(lsoa_code, '^E01[0-9]{6}$'))
        AS patient_rows_in_england_lsoas,
    (SELECT count(*) FROM stg_gp_patients_lsoa
       WHERE regexp_matches(lsoa_code, '^E01[0-9]{6}$')
         AND lsoa_code NOT IN (SELECT lsoa21_code FROM int_lsoa_geography))
        AS patient_rows_not_in_this_geography,
    (SELECT string_agg(lsoa_code, ', ') FROM (
        SELECT DISTINCT lsoa_code FROM stg_gp_patients_lsoa
        WHERE lsoa_code NOT IN (SELECT lsoa21_code FROM int_lsoa_geography)
        ORDER BY 1 LIMIT 3)) AS examples_patient_lsoas_not_in_this_geography
