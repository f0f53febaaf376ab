-- One row per LTLA 2024: its ICB and region, rural or urban (the rural population share at least a half), and its DX and DEDI decile among LTLAs (mean LSOA score); what dedi evaluate matches LA units on.
SELECT ltla24_code,
       any_value(icb24_code) AS icb24_code,
       any_value(region_code) AS region_code,
       CASE WHEN sum(population) FILTER (urban_rural = 'Rural') >= sum(population) / 2 THEN 'Rural'
            WHEN count(urban_rural) > 0 THEN 'Urban' END AS urban_rural,
       ntile(10) OVER (ORDER BY avg(dx_score) DESC) AS dx_decile,
       ntile(10) OVER (ORDER BY avg(dedi_score) DESC) AS dedi_decile
FROM lsoa_index
GROUP BY ltla24_code
