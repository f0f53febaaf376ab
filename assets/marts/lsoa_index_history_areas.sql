-- lsoa_index_history_areas (a view, not published): each LSOA's IMD rank per vintage with its ward, LTLA, ICB,
-- region and population, what the area summaries of every vintage (area_summary_history) are
-- built from. Written by the lsoa_index_history asset.
-- Inputs: lsoa_index_history, int_lsoa_geography, int_lsoa_population.
SELECT h.vintage, h.lsoa21_code, h.imd_rank, h.lsoas_ranked,
       g.ward24_code, g.ward24_name, g.ltla24_code, g.ltla24_name, g.icb24_code, g.icb24_name, g.region_code, g.region_name,
       p.population
FROM lsoa_index_history h
JOIN int_lsoa_geography g USING (lsoa21_code)
JOIN int_lsoa_population p USING (lsoa21_code)
