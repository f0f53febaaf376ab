-- lsoa_indicators: every digital-exclusion input per LSOA 2021, one row per LSOA, each
-- oriented so that a HIGHER value means MORE excluded. Sources, vintages and real/synthetic
-- status of each indicator are in the coverage mart; the asset then adds synthetic_inputs
-- (the indicators of the row that rest on synthetic data) and blanks local counts below the
-- suppression threshold (and their rates) BEFORE the index reads this table, so DX can be
-- reproduced from the published values.
-- Inputs: int_lsoa_geography, int_connectivity_lsoa, int_nhs_app_uptake_lsoa,
--   int_census_indicators, int_iod_indicators, int_school_fsm_lsoa, int_local_proxy_rates
--   (its 'current' vintage).
SELECT
    geo.lsoa21_code,
    geo.lsoa21_name,
    geo.ltla24_code,
    -- Connectivity: Ofcom % premises unable to receive 30 Mbit/s, else the IoD 2025 broadband
    -- speeds indicator, else the DERI component (see connectivity_source)
    con.connectivity_exclusion,
    con.connectivity_source,
    con.connectivity_units,
    con.connectivity_imputed,
    -- NHS App: % of registered patients NOT registered for the NHS App
    100.0 * (1 - app.nhs_app_uptake) AS nhs_app_non_uptake_pct,
    app.registered_patients AS nhs_app_registered_patients,
    -- Census 2021 demography
    cen.pct_aged_70plus,
    cen.pct_aged_65plus,
    cen.pct_disabled,
    cen.pct_households_overcrowded,
    cen.pct_households_deprived_2plus,
    cen.pct_cannot_speak_english_well,
    cen.pct_aged_75plus,
    cen.pct_households_social_rented,
    -- IoD 2025 File 8
    f8.adult_skills_english_pct,
    f8.pct_older_income_deprived,
    f8.income_deprived_pct,
    f8.employment_deprived_pct,
    f8.cidr AS illness_disability_ratio,
    -- Schools: pupil-premium proxy, % free school meals of the schools serving the LSOA
    fsm.fsm_pct AS school_fsm_pct,
    -- Local-authority proxies (missing outside the supplying LA)
    pp.rate_pct AS pupil_premium_rate_pct,
    ab.rate_pct AS assisted_bin_collection_rate_pct,
    esl.rate_pct AS english_second_language_rate_pct,
    hc.rate_pct AS housing_condition_rate_pct,
    pp.count AS pupil_premium_count,
    ab.count AS assisted_bin_collection_count,
    esl.count AS english_second_language_count,
    hc.count AS housing_condition_count
FROM int_lsoa_geography AS geo
LEFT JOIN int_connectivity_lsoa AS con ON con.lsoa21_code = geo.lsoa21_code
LEFT JOIN int_nhs_app_uptake_lsoa AS app ON app.lsoa21_code = geo.lsoa21_code
LEFT JOIN int_census_indicators AS cen ON cen.lsoa21_code = geo.lsoa21_code
LEFT JOIN int_iod_indicators AS f8 ON f8.lsoa21_code = geo.lsoa21_code
LEFT JOIN int_school_fsm_lsoa AS fsm ON fsm.lsoa21_code = geo.lsoa21_code
LEFT JOIN int_local_proxy_rates AS pp
       ON pp.lsoa21_code = geo.lsoa21_code AND pp.proxy = 'pupil_premium'
      AND pp.vintage = 'current'
LEFT JOIN int_local_proxy_rates AS ab
       ON ab.lsoa21_code = geo.lsoa21_code AND ab.proxy = 'assisted_bin_collection'
      AND ab.vintage = 'current'
LEFT JOIN int_local_proxy_rates AS esl
       ON esl.lsoa21_code = geo.lsoa21_code AND esl.proxy = 'english_second_language'
      AND esl.vintage = 'current'
LEFT JOIN int_local_proxy_rates AS hc
       ON hc.lsoa21_code = geo.lsoa21_code AND hc.proxy = 'housing_condition'
      AND hc.vintage = 'current'
ORDER BY geo.lsoa21_code
