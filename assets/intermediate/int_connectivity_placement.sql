-- int_connectivity_placement: how much of the Ofcom postcode release could be placed in an
-- England LSOA 2021 (one row). Premises-weighted (weight 1 per postcode where a release has
-- no premises counts). Inputs: stg_ofcom_postcode_coverage, stg_postcode_directory.
WITH joined AS (
    SELECT COALESCE(c.premises, 1) AS weight, d.postcode IS NULL AS not_in_directory,
           d.postcode IS NOT NULL
               AND NOT COALESCE(regexp_matches(d.lsoa21_code, '^E01[0-9]{6}$'), false)
               AS outside_england,
           COALESCE(d.terminated, false) AS terminated
    FROM stg_ofcom_postcode_coverage AS c
    LEFT JOIN stg_postcode_directory AS d USING (postcode)
)
SELECT
    COALESCE(sum(weight), 0) AS premises,
    COALESCE(sum(weight) FILTER (WHERE not_in_directory), 0) AS premises_postcode_not_in_directory,
    COALESCE(sum(weight) FILTER (WHERE outside_england), 0) AS premises_outside_england,
    COALESCE(sum(weight) FILTER (WHERE terminated), 0) AS premises_in_terminated_postcodes,
    count(*) FILTER (WHERE not_in_directory) AS postcodes_not_in_directory,
    (COALESCE(sum(weight) FILTER (WHERE not_in_directory), 0)
     + COALESCE(sum(weight) FILTER (WHERE outside_england), 0)) / nullif(sum(weight), 0)
        AS share_premises_not_placed
FROM joined
