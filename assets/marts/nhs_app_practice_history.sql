-- nhs_app_practice_history: NHS App registrations by GP practice and month, every month
-- supplied (the practice-level outcome panel of `dedi evaluate`). Small counts
-- (assets/macros/disclosure.sql) are suppressed (NULL), with the uptake they would reveal.
-- Input: stg_nhs_app_practice_monthly.
SELECT
    month,
    practice_code,
    published_count(registrations) AS registrations,
    published_count(list_size) AS list_size,
    CASE WHEN is_small_count(registrations) OR is_small_count(list_size) OR list_size = 0
         THEN NULL ELSE round(100 * registrations / list_size, 4) END AS nhs_app_uptake_pct
FROM stg_nhs_app_practice_monthly
ORDER BY month, practice_code
