-- GP practices side by side on the IMD and DEDI, each practice summarised over the LSOAs where its patients live, weighted by them (shares are of patients; no Monte Carlo interval), with the ICB where most of them live: empty where no patients-by-LSOA file was supplied.
SELECT s.area_code AS practice_code, s.area_name AS practice_name, p.icb24_code,
       s.population AS patients_in_england_lsoas, s.lsoa_count,
       s.imd_average_score_rank, s.dedi_average_score_rank,
       s.imd_share_most_deprived_10pct, s.dedi_share_most_deprived_10pct, s.data_status
FROM v_area_imd_dedi AS s
LEFT JOIN gp_practice_profile AS p ON p.practice_code = s.area_code
WHERE s.geography = 'gp_practice'
