-- int_connectivity_postcode_lsoa: Ofcom Connected Nations fixed coverage, postcodes -> LSOA 2021.
-- Inputs:
--   stg_ofcom_postcode_coverage  one row per postcode (% premises unable to receive 30 Mbit/s, ...)
--   stg_postcode_directory       ONS Postcode Directory: postcode -> LSOA 2021
-- Each postcode is weighted by its premises count; where the release has no counts every
-- postcode weighs 1. Postcodes not in the directory, or outside England, cannot be placed and
-- are counted in stg metadata, not here.
WITH placed AS (
    SELECT
        d.lsoa21_code,
        COALESCE(c.premises, 1) AS weight,
        c.pct_below_30mbit,
        c.pct_below_10mbit,
        c.pct_gigabit,
        c.pct_below_uso
    FROM stg_ofcom_postcode_coverage AS c
    JOIN stg_postcode_directory AS d ON d.postcode = c.postcode
    WHERE regexp_matches(d.lsoa21_code, '^E01[0-9]{6}$')
)
SELECT
    lsoa21_code,
    count(*) AS postcodes,
    sum(weight) AS premises_weight,
    sum(weight * pct_below_30mbit) / sum(weight) FILTER (WHERE pct_below_30mbit IS NOT NULL)
        AS pct_premises_below_30mbit,
    sum(weight * pct_below_10mbit) / sum(weight) FILTER (WHERE pct_below_10mbit IS NOT NULL)
        AS pct_premises_below_10mbit,
    100 - sum(weight * pct_gigabit) / sum(weight) FILTER (WHERE pct_gigabit IS NOT NULL)
        AS pct_premises_without_gigabit,
    sum(weight * pct_below_uso) / sum(weight) FILTER (WHERE pct_below_uso IS NOT NULL)
        AS pct_premises_below_uso
FROM placed
GROUP BY lsoa21_code
ORDER BY lsoa21_code
