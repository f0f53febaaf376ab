-- LSOAs that enter the most deprived decile once digital exclusion counts, with ICB and LTLA.
SELECT c.lsoa21_code, c.lsoa21_name, i.ltla24_name, i.icb24_code, i.icb24_name, c.imd_rank,
       c.dedi_rank, c.dx_rank, c.dedi_prob_most_deprived_decile, c.data_status
FROM dedi_decile1_changes c
JOIN lsoa_index i USING (lsoa21_code)
WHERE c.change LIKE 'enters%'
