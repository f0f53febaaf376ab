-- IMD percentile per LTLA 2024 and IoD vintage (2019, 2025), population weighted over the LSOAs comparable between vintages; the LA outcome panel of dedi evaluate --outcome imd_percentile.
SELECT i.ltla24_code, CAST(h.vintage AS VARCHAR) AS vintage,
       sum(h.imd_percentile * i.population) / sum(i.population) AS imd_percentile
FROM lsoa_index_history h JOIN lsoa_index i USING (lsoa21_code)
WHERE h.comparable
GROUP BY 1, 2
