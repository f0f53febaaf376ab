-- dedi_decile1_changes (mart): the LSOAs entering or leaving the most deprived decile when
-- digital exclusion counts (IMD decile 1 vs DEDI decile 1), with the probability from the
-- Monte Carlo that the LSOA is in DEDI's most deprived decile.
-- Inputs: stg_iod2025 (IMD), int_dedi_lsoa (DEDI), int_dx_lsoa (DX), int_dedi_uncertainty.
SELECT
    iod.lsoa21_code,
    iod.lsoa21_name,
    CASE WHEN dedi.dedi_decile = 1 THEN 'enters most deprived decile'
         ELSE 'leaves most deprived decile' END AS change,
    iod.imd_rank,
    dedi.dedi_rank,
    iod.imd_decile,
    dedi.dedi_decile,
    dx.dx_rank,
    unc.dedi_prob_most_deprived_decile
FROM stg_iod2025 AS iod
JOIN int_dedi_lsoa AS dedi USING (lsoa21_code)
JOIN int_dx_lsoa AS dx USING (lsoa21_code)
JOIN int_dedi_uncertainty AS unc USING (lsoa21_code)
WHERE (iod.imd_decile = 1) <> (dedi.dedi_decile = 1)
ORDER BY change, dedi.dedi_rank
