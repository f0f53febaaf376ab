-- nhs_app_uptake_history: NHS App uptake per LSOA 2021 and month, every month supplied (the
-- outcome panel `dedi evaluate` uses). The current month is also in lsoa_indicators.
-- Registered-patient counts below getvariable('min_count') are suppressed (NULL).
-- Input: int_nhs_app_uptake_lsoa_monthly.
SELECT
    month,
    lsoa21_code,
    CASE WHEN registered_patients >= getvariable('min_count') THEN registered_patients END
        AS registered_patients,
    practices,
    round(100 * nhs_app_uptake, 4) AS nhs_app_uptake_pct
FROM int_nhs_app_uptake_lsoa_monthly
ORDER BY month, lsoa21_code
