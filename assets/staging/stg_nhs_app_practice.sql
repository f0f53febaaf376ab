-- stg_nhs_app_practice: NHS App registrations by GP practice in the LATEST month supplied (the
-- current vintage). Every month is kept in stg_nhs_app_practice_monthly (one Dagster partition
-- per month, pipeline/sources/nhs_app.py); the history is published as nhs_app_practice_history.
SELECT *
FROM stg_nhs_app_practice_monthly
WHERE month = (SELECT max(month) FROM stg_nhs_app_practice_monthly)
ORDER BY practice_code
