-- int_nhs_app_uptake_lsoa: NHS App uptake per LSOA 2021 in the latest month supplied (the
-- current vintage), from int_nhs_app_uptake_lsoa_monthly (where the apportionment is written
-- out). Input: int_nhs_app_uptake_lsoa_monthly, stg_nhs_app_practice (the latest month).
SELECT lsoa21_code, registered_patients, practices, registrations_apportioned, nhs_app_uptake
FROM int_nhs_app_uptake_lsoa_monthly
WHERE month = (SELECT max(month) FROM stg_nhs_app_practice)
ORDER BY lsoa21_code
