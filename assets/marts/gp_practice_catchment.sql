-- gp_practice_catchment (mart): the England LSOAs 2021 where each GP practice's registered
-- patients live, one row per practice and LSOA, with the practice's name: the area a practice's
-- summary in area_summary (geography 'gp_practice') is made of, and what the explorer shows for
-- a practice. No counts: how many patients live in each LSOA is not published.
-- Inputs: int_gp_practice_lsoa (practices with a small count of patients already left out).
SELECT practice_code, practice_name, lsoa21_code
FROM int_gp_practice_lsoa
ORDER BY practice_code, lsoa21_code
