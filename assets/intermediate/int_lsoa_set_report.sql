-- int_lsoa_set_report: LSOA codes present in one source but not another (IoD File 7 vs the
-- LTLA and ICB lookups vs Census), one row per problem and LSOA; empty when all agree.
-- Read by the blocking check lsoa_sets_consistent. Inputs: stg_iod2025, stg_lsoa21_ltla24,
-- stg_lsoa21_icb24, stg_census21_population.
SELECT 'in_iod_not_geography' AS problem, lsoa21_code
FROM (SELECT lsoa21_code FROM stg_iod2025 EXCEPT SELECT lsoa21_code FROM stg_lsoa21_ltla24)
UNION ALL
SELECT 'in_geography_not_iod', lsoa21_code
FROM (SELECT lsoa21_code FROM stg_lsoa21_ltla24 EXCEPT SELECT lsoa21_code FROM stg_iod2025)
UNION ALL
SELECT 'in_iod_not_icb_lookup', lsoa21_code
FROM (SELECT lsoa21_code FROM stg_iod2025 EXCEPT SELECT lsoa21_code FROM stg_lsoa21_icb24)
UNION ALL
SELECT 'in_iod_not_census', lsoa21_code
FROM (SELECT lsoa21_code FROM stg_iod2025 EXCEPT SELECT lsoa21_code FROM stg_census21_population)
ORDER BY problem, lsoa21_code
