-- int_dx_frame (a view): every lsoa_indicators column per LSOA with its ward, LTLA, ICB, region and
-- population, what the DX method and the Monte Carlo read (pipeline/method/dx.py). Written by
-- the int_dx_lsoa asset. Inputs: lsoa_indicators, int_lsoa_geography, int_lsoa_population.
SELECT i.*, g.ward24_code AS _ward, g.ltla24_code AS _ltla, g.ltla24_name AS _ltla_name, g.icb24_code AS _icb, g.region_code AS _region,
       p.population AS _population
FROM lsoa_indicators i
JOIN int_lsoa_geography g USING (lsoa21_code)
JOIN int_lsoa_population p USING (lsoa21_code)
ORDER BY lsoa21_code
