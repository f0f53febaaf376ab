-- ICBs side by side on the IMD and DEDI (IoD area summaries): average-score rank with its Monte Carlo interval, share of LSOAs in the most deprived 10%.
SELECT area_code AS icb24_code, area_name AS icb24_name, population, lsoa_count,
       imd_average_score_rank, dedi_average_score_rank, dedi_rank_p05, dedi_rank_p95,
       imd_share_most_deprived_10pct, dedi_share_most_deprived_10pct, data_status
FROM v_area_imd_dedi
WHERE geography = 'icb24'
