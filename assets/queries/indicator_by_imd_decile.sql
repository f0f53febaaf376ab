-- Each DX indicator's average by IMD 2025 decile: how digital-exclusion risk follows deprivation.
SELECT x.imd_decile,
       count(*) AS lsoas,
       round(avg(i.connectivity_exclusion), 2) AS connectivity_exclusion,
       round(avg(i.pct_aged_75plus), 2) AS pct_aged_75plus,
       round(avg(i.pct_disabled), 2) AS pct_disabled,
       round(avg(i.adult_skills_english_pct), 2) AS adult_skills_english_pct,
       round(avg(i.pct_households_social_rented), 2) AS pct_households_social_rented,
       round(avg(x.dx_score), 3) AS mean_dx_score
FROM lsoa_index x
JOIN lsoa_indicators i USING (lsoa21_code)
GROUP BY x.imd_decile
ORDER BY x.imd_decile
