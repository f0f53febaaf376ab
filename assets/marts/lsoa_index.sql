-- lsoa_index (mart): per LSOA 2021, the published Index of Multiple Deprivation 2025 and its
-- domains, the digital-exclusion domain (DX) and the digital-exclusion-adjusted IMD (DEDI)
-- with its Monte Carlo uncertainty, plus geographies and population.
-- Inputs:
--   stg_iod2025          IoD 2025 File 7 (official scores, ranks, deciles)
--   int_lsoa_geography   ward 2024, LTLA 2024, ICB 2024 and region of each LSOA
--   int_lsoa_population  population denominator (File 7 mid-2022, else Census 2021)
--   int_dx_lsoa          DX and its sub-domains (pipeline/method/dx.py)
--   int_dedi_lsoa        DEDI (pipeline/method/dx.py)
--   int_dedi_uncertainty DEDI rank percentiles (pipeline/method/uncertainty.py)
--   lsoa_indicators      connectivity_source, connectivity_units
--   int_imd2019_lsoa21   IMD 2019 harmonised from LSOA 2011 (NULL when not supplied)
-- Ranks: 1 = most deprived / most excluded. dedi_rank_change = imd_rank - dedi_rank
-- (positive: more deprived once digital exclusion counts).
SELECT
    iod.lsoa21_code,
    iod.lsoa21_name,
    geo.ward24_code,
    geo.ward24_name,
    geo.ltla24_code,
    geo.ltla24_name,
    geo.icb24_code,
    geo.icb24_name,
    geo.region_code,
    geo.region_name,
    geo.ruc21_code,
    geo.urban_rural,
    pop.population,
    pop.population_source,
    iod.imd_score, iod.imd_rank, iod.imd_decile,
    iod.income_score, iod.income_rank, iod.income_decile,
    iod.employment_score, iod.employment_rank, iod.employment_decile,
    iod.education_score, iod.education_rank, iod.education_decile,
    iod.health_score, iod.health_rank, iod.health_decile,
    iod.crime_score, iod.crime_rank, iod.crime_decile,
    iod.barriers_score, iod.barriers_rank, iod.barriers_decile,
    iod.living_environment_score, iod.living_environment_rank, iod.living_environment_decile,
    dx.dx_score, dx.dx_rank, dx.dx_decile, dx.dx_indicator_count,
    dedi.dedi_score, dedi.dedi_rank, dedi.dedi_decile,
    iod.imd_rank - dedi.dedi_rank AS dedi_rank_change,
    iod.imd_decile - dedi.dedi_decile AS dedi_decile_change,
    unc.dedi_rank_p05, unc.dedi_rank_p50, unc.dedi_rank_p95,
    unc.dedi_prob_most_deprived_decile,
    prev.imd2019_rank_harmonised,
    prev.imd2019_decile_harmonised,
    dx.dx_synthetic_inputs,
    -- DX route (sub-domain) scores as combined: exponentially transformed ranks, 0-100, under
    -- dx.aggregation exponential (normal scores under linear); NULL where a route has no data
    dx.dx_later_life_score, dx.dx_deprivation_score, dx.dx_disability_score,
    dx.dx_access_score, dx.dx_use_score,
    dx.dx_leading_route,          -- the route that contributes most to the LSOA's DX
    dx.dx_local_layer,            -- true where a local proxy reordered the LSOA within its LA
    ind.connectivity_source,      -- which connectivity source the LSOA's DX used
    ind.connectivity_units        -- what that source's connectivity_exclusion value holds
FROM stg_iod2025 AS iod
LEFT JOIN int_lsoa_geography AS geo ON geo.lsoa21_code = iod.lsoa21_code
LEFT JOIN int_lsoa_population AS pop ON pop.lsoa21_code = iod.lsoa21_code
LEFT JOIN int_dx_lsoa AS dx ON dx.lsoa21_code = iod.lsoa21_code
LEFT JOIN int_dedi_lsoa AS dedi ON dedi.lsoa21_code = iod.lsoa21_code
LEFT JOIN int_dedi_uncertainty AS unc ON unc.lsoa21_code = iod.lsoa21_code
LEFT JOIN lsoa_indicators AS ind ON ind.lsoa21_code = iod.lsoa21_code
LEFT JOIN int_imd2019_lsoa21 AS prev ON prev.lsoa21_code = iod.lsoa21_code
ORDER BY iod.lsoa21_code
