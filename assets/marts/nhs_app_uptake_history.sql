-- nhs_app_uptake_history: NHS App uptake per LSOA 2021 and month, every month supplied (the
-- outcome panel `dedi evaluate` uses). The current month is also in lsoa_indicators.
-- Small registered-patient counts (assets/macros/disclosure.sql) are suppressed (NULL).
-- Input: int_nhs_app_uptake_lsoa_monthly.
SELECT
    month,
    lsoa21_code,
    published_count(registered_patients) AS registered_patients,
    practices,
    round(100 * nhs_app_uptake, 4) AS nhs_app_uptake_pct
FROM int_nhs_app_uptake_lsoa_monthly
ORDER BY month, lsoa21_code
