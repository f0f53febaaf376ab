-- int_nhs_app_apportionment: what the NHS App apportionment could and could not use (one row),
-- reported with int_nhs_app_uptake_lsoa. Inputs: stg_nhs_app_practice, stg_gp_patients_lsoa,
-- stg_gp_practices, int_nhs_app_uptake_lsoa.
WITH app AS (SELECT DISTINCT practice_code FROM stg_nhs_app_practice),
     pat AS (SELECT DISTINCT practice_code FROM stg_gp_patients_lsoa)
SELECT
    (SELECT count(*) FROM app WHERE practice_code NOT IN (SELECT * FROM pat))
        AS practices_in_app_file_not_in_patients_file,
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
        AS patient_rows_outside_england_lsoas
