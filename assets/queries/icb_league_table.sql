-- ICB league table on DEDI (average-score rank, 1 = most deprived) with its 90% Monte Carlo interval and the IMD rank beside it.
SELECT dedi_average_score_rank AS rank, icb24_name,
       dedi_rank_p05 AS rank_low, dedi_rank_p95 AS rank_high,
       imd_average_score_rank AS imd_rank,
       imd_average_score_rank - dedi_average_score_rank AS places_up_vs_imd
FROM v_icb_summary
ORDER BY rank
