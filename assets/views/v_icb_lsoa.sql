-- One row per LSOA with its ICB and LTLA and the key figures (IMD, DX, DEDI, uncertainty): filter by icb24_code.
SELECT icb24_code, icb24_name, ltla24_code, ltla24_name, lsoa21_code, lsoa21_name, population,
       imd_rank, imd_decile, dx_rank, dx_decile, dedi_rank, dedi_decile, dedi_rank_change,
       dedi_rank_p05, dedi_rank_p95, dedi_prob_most_deprived_decile, connectivity_source,
       data_status
FROM lsoa_index
