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
    -- published_rate (assets/macros/disclosure.sql): 100 x num / den, NULL when den is small
    published_rate(age.aged_65 + age.aged_66_69 + age.aged_70_74 + age.aged_75_79
                   + age.aged_80_84 + age.aged_85_plus, age.total) AS pct_aged_65plus,
    published_rate(age.aged_70_74 + age.aged_75_79 + age.aged_80_84 + age.aged_85_plus,
                   age.total) AS pct_aged_70plus,
    published_rate(age.aged_75_79 + age.aged_80_84 + age.aged_85_plus,
                   age.total) AS pct_aged_75plus,
    published_rate(hh.social_rented, hh.households) AS pct_households_social_rented,
    published_rate(dis."Disabled under the Equality Act", dis.total) AS pct_disabled,
    published_rate(crowd."-1 (overcrowded)" + crowd."-2 or less (overcrowded)",
                   crowd.total) AS pct_households_overcrowded,
    published_rate(dep.deprived_2plus, dep.households) AS pct_households_deprived_2plus,
    published_rate(prof.cannot_speak_english_well, prof.residents)
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
