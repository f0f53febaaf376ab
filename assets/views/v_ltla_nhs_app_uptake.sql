-- NHS App uptake per LTLA 2024 and month: the LSOA uptakes weighted by registered patients (LSOAs whose uptake is suppressed left out); the LA outcome panel of dedi evaluate.
SELECT i.ltla24_code, h.month,
       sum(h.nhs_app_uptake_pct * h.registered_patients) / sum(h.registered_patients)
           AS nhs_app_uptake_pct
FROM nhs_app_uptake_history h JOIN lsoa_index i USING (lsoa21_code)
WHERE h.nhs_app_uptake_pct IS NOT NULL
GROUP BY 1, 2
