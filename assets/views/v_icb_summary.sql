-- ICBs side by side on the IMD and DEDI (IoD area summaries): average-score rank with its Monte Carlo interval, share of LSOAs in the most deprived 10%.
SELECT d.area_code AS icb24_code, d.area_name AS icb24_name, d.population, d.lsoa_count,
       m.average_score_rank AS imd_average_score_rank,
       d.average_score_rank AS dedi_average_score_rank,
       d.average_score_rank_p05 AS dedi_rank_p05, d.average_score_rank_p95 AS dedi_rank_p95,
       m.proportion_most_deprived_10pct AS imd_share_most_deprived_10pct,
       d.proportion_most_deprived_10pct AS dedi_share_most_deprived_10pct, d.data_status
FROM area_summary d
JOIN area_summary m ON m.geography = d.geography AND m.area_code = d.area_code AND m.index = 'imd'
WHERE d.geography = 'icb24' AND d.index = 'dedi'
