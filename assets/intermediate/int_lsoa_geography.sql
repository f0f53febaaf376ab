-- int_lsoa_geography: one row per England LSOA 2021 with the higher geographies it sits in.
-- Inputs (staging tables, one per ONS lookup file):
--   stg_lsoa21_ltla24   LSOA 2021 -> ward 2024 (ONS best fit) -> local authority district (LTLA) 2024
--   stg_lsoa21_icb24    LSOA 2021 -> sub-ICB location -> integrated care board (ICB) 2024
--   stg_ltla24_region   LTLA 2024 -> region
--   stg_lsoa21_ruc21    2021 Rural-Urban Classification (optional: NULL when not supplied)
-- An LSOA missing from any lookup keeps NULL codes here and is reported by the lsoa_index checks.
SELECT
    l.lsoa21_code,
    l.lsoa21_name,
    l.ward24_code,
    l.ward24_name,
    l.ltla24_code,
    l.ltla24_name,
    i.sicbl24_code,
    i.icb24_code,
    i.icb24_name,
    r.region_code,
    r.region_name,
    u.ruc21_code,
    u.urban_rural
FROM stg_lsoa21_ltla24 AS l
LEFT JOIN stg_lsoa21_icb24 AS i ON i.lsoa21_code = l.lsoa21_code
LEFT JOIN stg_ltla24_region AS r ON r.ltla24_code = l.ltla24_code
LEFT JOIN stg_lsoa21_ruc21 AS u ON u.lsoa21_code = l.lsoa21_code
ORDER BY l.lsoa21_code
