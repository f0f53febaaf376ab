-- LSOAs moving into the most deprived decile once digital exclusion counts, most certain first.
SELECT lsoa21_code, lsoa21_name, ltla24_name, icb24_name, imd_rank, dedi_rank,
       round(dedi_prob_most_deprived_decile, 2) AS p_most_deprived_decile
FROM v_decile1_entrants
ORDER BY dedi_prob_most_deprived_decile DESC, dedi_rank
