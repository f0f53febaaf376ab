-- int_census_indicators: Census 2021 demography per LSOA 2021 (higher = more excluded).
-- Inputs: stg_census21_age65plus (RM121), stg_census21_disability (TS038),
--   stg_census21_overcrowding (TS052), stg_census21_household_deprivation (TS011),
--   stg_census21_households (TS054 tenure),
--   stg_census21_proficiency_msoa (TS029, MSOA 2021), stg_msoa21_names, int_lsoa_geography.
-- English proficiency is published for MSOAs only. LSOAs nest in MSOAs ("Hartlepool 001A" is
-- in "Hartlepool 001"); each LSOA gets its MSOA's count apportioned by population share,
-- which gives every LSOA its MSOA's rate.
SELECT
    geo.lsoa21_code,
    100.0 * (age.aged_65 + age.aged_66_69 + age.aged_70_74 + age.aged_75_79 + age.aged_80_84
             + age.aged_85_plus) / nullif(age.total, 0) AS pct_aged_65plus,
    100.0 * (age.aged_70_74 + age.aged_75_79 + age.aged_80_84 + age.aged_85_plus)
        / nullif(age.total, 0) AS pct_aged_70plus,
    100.0 * (age.aged_75_79 + age.aged_80_84 + age.aged_85_plus)
        / nullif(age.total, 0) AS pct_aged_75plus,
    100.0 * hh.social_rented / nullif(hh.households, 0) AS pct_households_social_rented,
    100.0 * dis."Disabled under the Equality Act" / nullif(dis.total, 0) AS pct_disabled,
    100.0 * (crowd."-1 (overcrowded)" + crowd."-2 or less (overcrowded)")
        / nullif(crowd.total, 0) AS pct_households_overcrowded,
    100.0 * dep.deprived_2plus / nullif(dep.households, 0) AS pct_households_deprived_2plus,
    100.0 * prof.cannot_speak_english_well / nullif(prof.residents, 0)
        AS pct_cannot_speak_english_well,
    msoa.msoa21_code
FROM int_lsoa_geography AS geo
LEFT JOIN stg_census21_age65plus AS age ON age.lsoa21_code = geo.lsoa21_code
LEFT JOIN stg_census21_disability AS dis ON dis.lsoa21_code = geo.lsoa21_code
LEFT JOIN stg_census21_overcrowding AS crowd ON crowd.lsoa21_code = geo.lsoa21_code
LEFT JOIN stg_census21_household_deprivation AS dep ON dep.lsoa21_code = geo.lsoa21_code
LEFT JOIN stg_census21_households AS hh ON hh.lsoa21_code = geo.lsoa21_code
LEFT JOIN stg_msoa21_names AS msoa
       ON msoa.msoa21_name = regexp_replace(geo.lsoa21_name, '[A-Z]$', '')
LEFT JOIN stg_census21_proficiency_msoa AS prof ON prof.msoa21_code = msoa.msoa21_code
ORDER BY geo.lsoa21_code
