-- Every summarised area (geography: ward24, ltla24, icb24, region, gp_practice) with its IMD and DEDI side by side: average-score rank among areas of its geography, the DEDI Monte Carlo interval (not for GP practices), share in the most deprived 10%. The per-geography views are cuts of this one.
SELECT d.geography, d.area_code, d.area_name, d.population, d.lsoa_count,
       m.average_score_rank AS imd_average_score_rank,
       d.average_score_rank AS dedi_average_score_rank,
       d.average_score_rank_p05 AS dedi_rank_p05, d.average_score_rank_p95 AS dedi_rank_p95,
       m.proportion_most_deprived_10pct AS imd_share_most_deprived_10pct,
       d.proportion_most_deprived_10pct AS dedi_share_most_deprived_10pct, d.data_status
FROM area_summary d
JOIN area_summary m ON m.geography = d.geography AND m.area_code = d.area_code AND m.index = 'imd'
WHERE d.index = 'dedi'
