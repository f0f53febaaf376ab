-- Local authorities (LTLA 2024) side by side on the IMD and DEDI, with the DEDI Monte Carlo interval.
SELECT area_code AS ltla24_code, area_name AS ltla24_name, population, lsoa_count,
       imd_average_score_rank, dedi_average_score_rank, dedi_rank_p05, dedi_rank_p95,
       imd_share_most_deprived_10pct, dedi_share_most_deprived_10pct, data_status
FROM v_area_imd_dedi
WHERE geography = 'ltla24'
