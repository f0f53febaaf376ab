-- The 20 highest-need LSOAs in one ICB by DEDI (change the code: Cheshire and Merseyside is E54000008).
SELECT lsoa21_code, lsoa21_name, ltla24_name, dedi_rank, dedi_decile, dx_decile, imd_decile,
       dedi_rank_p05, dedi_rank_p95
FROM v_icb_lsoa
WHERE icb24_code = 'E54000008'
ORDER BY dedi_rank
LIMIT 20
