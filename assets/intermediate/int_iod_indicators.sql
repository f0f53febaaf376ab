-- int_iod_indicators: digital-exclusion indicators taken from the IoD 2025 (File 8, and the Income
-- and Employment rates of File 7), per LSOA 2021
-- (higher = more excluded). Inputs: stg_iod2025_file8 (File 8 underlying indicators),
-- int_lsoa_population (the population denominator of the build), stg_iod2025 (File 7).
--   income_deprived_pct          people in income-deprived families per 100 residents: the
--                                Income domain's one indicator (File 8 numerator) over the
--                                IoD's own denominator, as File 7 publishes it (score x 100)
--   employment_deprived_pct      working-age people involuntarily out of work per 100 aged
--                                18-66: the Employment domain's indicator as File 7 publishes
--                                it (score x 100)
--   adult_skills_english_pct     % of adults 25-66 with no or low qualifications or who cannot
--                                speak English well (File 8 proportion x 100)
--   pct_older_income_deprived    people aged 60+ in income-deprived families (IDAOPI numerator:
--                                pension credit and similar) per 100 residents: how common
--                                older people on low incomes are in the LSOA
--   broadband_speeds             IoD 2025 broadband download and upload speeds indicator
--                                (Barriers domain; higher = slower)
--   cidr                         comparative illness and disability ratio (Health domain)
-- LSOAs with no File 8 row, or a suppressed IDAOPI numerator, stay missing (never zero).
SELECT
    pop.lsoa21_code,
    -- a rate over a small population would give the population back: NULL, as it is
    CASE WHEN is_small_count(pop.population) THEN NULL ELSE 100.0 * iod.income_score END
        AS income_deprived_pct,
    CASE WHEN is_small_count(pop.population) THEN NULL ELSE 100.0 * iod.employment_score END
        AS employment_deprived_pct,
    100.0 * f8.adult_skills_english AS adult_skills_english_pct,
    published_rate(f8.idaopi_numerator, pop.population) AS pct_older_income_deprived,
    f8.broadband_speeds,
    f8.cidr
FROM int_lsoa_population AS pop
LEFT JOIN stg_iod2025_file8 AS f8 ON f8.lsoa21_code = pop.lsoa21_code
LEFT JOIN stg_iod2025 AS iod ON iod.lsoa21_code = pop.lsoa21_code
ORDER BY pop.lsoa21_code
