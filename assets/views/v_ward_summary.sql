-- Wards (2024, ONS best-fit LSOA lookup) side by side on the IMD and DEDI, with the DEDI Monte Carlo interval, the ward's LTLA and the ICB holding most of its LSOAs: filter by ltla24_code or icb24_code.
WITH ward AS (
    SELECT ward24_code, any_value(ltla24_code) AS ltla24_code, any_value(ltla24_name) AS ltla24_name,
           mode(icb24_code) AS icb24_code
    FROM lsoa_index
    GROUP BY ward24_code
)
SELECT s.area_code AS ward24_code, s.area_name AS ward24_name, w.ltla24_code, w.ltla24_name,
       w.icb24_code, s.population, s.lsoa_count,
       s.imd_average_score_rank, s.dedi_average_score_rank, s.dedi_rank_p05, s.dedi_rank_p95,
       s.imd_share_most_deprived_10pct, s.dedi_share_most_deprived_10pct, s.data_status
FROM v_area_imd_dedi AS s
JOIN ward AS w ON w.ward24_code = s.area_code
WHERE s.geography = 'ward24'
