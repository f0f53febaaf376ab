-- lsoa_indicators: every digital-exclusion input per LSOA 2021, one row per LSOA, each
-- oriented so that a HIGHER value means MORE excluded. Sources, vintages and real/synthetic
-- status of each indicator are in indicator_catalogue / the coverage mart; the row-level
-- synthetic_inputs column lists the indicators of this row that rest on synthetic data.
-- Inputs: int_lsoa_geography, int_connectivity_lsoa, int_nhs_app_uptake_lsoa,
--   int_census_indicators, int_school_fsm_lsoa, int_local_proxy_rates.
SELECT
    geo.lsoa21_code,
    geo.lsoa21_name,
    geo.ltla24_code,
    -- Connectivity: Ofcom % premises unable to receive 30 Mbit/s, or the DERI component (0-10)
    con.connectivity_exclusion,
    con.connectivity_source,
    con.connectivity_imputed,
    -- NHS App: % of registered patients NOT registered for the NHS App
    100.0 * (1 - app.nhs_app_uptake) AS nhs_app_non_uptake_pct,
    app.registered_patients AS nhs_app_registered_patients,
    -- Census 2021 demography
    cen.pct_aged_70plus,
    cen.pct_aged_65plus,
    cen.pct_disabled,
    cen.pct_households_overcrowded,
    cen.pct_cannot_speak_english_well,
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
    hc.count AS housing_condition_count,
    concat_ws(',',
        CASE WHEN con.data_status = 'synthetic' AND con.connectivity_exclusion IS NOT NULL
             THEN 'connectivity_exclusion' END,
        CASE WHEN app_status.synthetic AND app.nhs_app_uptake IS NOT NULL
             THEN 'nhs_app_non_uptake_pct' END,
        CASE WHEN fsm.data_status = 'synthetic' THEN 'school_fsm_pct' END,
        CASE WHEN pp.data_status = 'synthetic' THEN 'pupil_premium_rate_pct' END,
        CASE WHEN ab.data_status = 'synthetic' THEN 'assisted_bin_collection_rate_pct' END,
        CASE WHEN esl.data_status = 'synthetic' THEN 'english_second_language_rate_pct' END,
        CASE WHEN hc.data_status = 'synthetic' THEN 'housing_condition_rate_pct' END
    ) AS synthetic_inputs
FROM int_lsoa_geography AS geo
LEFT JOIN int_connectivity_lsoa AS con ON con.lsoa21_code = geo.lsoa21_code
LEFT JOIN int_nhs_app_uptake_lsoa AS app ON app.lsoa21_code = geo.lsoa21_code
CROSS JOIN (SELECT bool_or(data_status = 'synthetic') AS synthetic
            FROM (SELECT data_status FROM stg_nhs_app_practice
                  UNION ALL SELECT data_status FROM stg_gp_patients_lsoa)) AS app_status
LEFT JOIN int_census_indicators AS cen ON cen.lsoa21_code = geo.lsoa21_code
LEFT JOIN int_school_fsm_lsoa AS fsm ON fsm.lsoa21_code = geo.lsoa21_code
LEFT JOIN int_local_proxy_rates AS pp
       ON pp.lsoa21_code = geo.lsoa21_code AND pp.proxy = 'pupil_premium'
LEFT JOIN int_local_proxy_rates AS ab
       ON ab.lsoa21_code = geo.lsoa21_code AND ab.proxy = 'assisted_bin_collection'
LEFT JOIN int_local_proxy_rates AS esl
       ON esl.lsoa21_code = geo.lsoa21_code AND esl.proxy = 'english_second_language'
LEFT JOIN int_local_proxy_rates AS hc
       ON hc.lsoa21_code = geo.lsoa21_code AND hc.proxy = 'housing_condition'
ORDER BY geo.lsoa21_code
