-- nhs_app_practice_history: NHS App registrations by GP practice and month, every month
-- supplied (the practice-level outcome panel of `dedi evaluate`). Counts below
-- getvariable('min_count') are suppressed (NULL), with the uptake they would reveal.
-- Input: stg_nhs_app_practice_monthly.
SELECT
    month,
    practice_code,
    CASE WHEN registrations >= getvariable('min_count') THEN registrations END AS registrations,
    CASE WHEN list_size >= getvariable('min_count') THEN list_size END AS list_size,
    CASE WHEN registrations >= getvariable('min_count') AND list_size > 0
         THEN round(100 * registrations / list_size, 4) END AS nhs_app_uptake_pct
FROM stg_nhs_app_practice_monthly
ORDER BY month, practice_code
