-- lsoa_index (mart): the published Index of Multiple Deprivation 2025 per LSOA 2021,
-- with its geographies and the population used for area summaries.
-- Inputs:
--   stg_iod2025               IoD 2025 File 7 (official scores, ranks, deciles)
--   int_lsoa_geography        LTLA 2024, ICB 2024 and region of each LSOA
--   stg_census21_population   Census 2021 usual residents (denominator when File 7 has none)
-- Population: File 7 "Total population: mid 2022" when present, otherwise Census 2021.
SELECT
    iod.lsoa21_code,
    iod.lsoa21_name,
    geo.ltla24_code,
    geo.ltla24_name,
    geo.icb24_code,
    geo.icb24_name,
    geo.region_code,
    geo.region_name,
    COALESCE(iod.population_mid2022, pop.usual_residents) AS population,
    CASE WHEN iod.population_mid2022 IS NOT NULL
         THEN 'IoD 2025 File 7: Total population mid 2022'
         ELSE 'Census 2021: usual residents (TS007A/TS001)' END AS population_source,
    iod.imd_score, iod.imd_rank, iod.imd_decile,
    iod.income_score, iod.income_rank, iod.income_decile,
    iod.employment_score, iod.employment_rank, iod.employment_decile,
    iod.education_score, iod.education_rank, iod.education_decile,
    iod.health_score, iod.health_rank, iod.health_decile,
    iod.crime_score, iod.crime_rank, iod.crime_decile,
    iod.barriers_score, iod.barriers_rank, iod.barriers_decile,
    iod.living_environment_score, iod.living_environment_rank, iod.living_environment_decile,
    CASE WHEN 'synthetic' IN (iod.data_status, geo.data_status, COALESCE(pop.data_status, 'real'))
         THEN 'synthetic' ELSE 'real' END AS data_status
FROM stg_iod2025 AS iod
LEFT JOIN int_lsoa_geography AS geo ON geo.lsoa21_code = iod.lsoa21_code
LEFT JOIN stg_census21_population AS pop ON pop.lsoa21_code = iod.lsoa21_code
ORDER BY iod.lsoa21_code
