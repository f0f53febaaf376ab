-- int_lsoa_population: the population denominator of each LSOA 2021 for area summaries.
-- IoD 2025 File 7 "Total population: mid 2022" when the file has it, otherwise Census 2021
-- usual residents. Inputs: stg_iod2025, stg_census21_population.
SELECT
    iod.lsoa21_code,
    COALESCE(iod.population_mid2022, pop.usual_residents) AS population,
    CASE WHEN iod.population_mid2022 IS NOT NULL
         THEN 'IoD 2025 File 7: Total population mid 2022'
         ELSE 'Census 2021: usual residents (TS007A/TS001)' END AS population_source
FROM stg_iod2025 AS iod
LEFT JOIN stg_census21_population AS pop ON pop.lsoa21_code = iod.lsoa21_code
ORDER BY iod.lsoa21_code
