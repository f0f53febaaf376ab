-- int_build_status: THE data_status rule of a build (one row), over the provenance of every
-- staged file (_sources: one row per file, its status from provenance.json or the
-- dedi_synthetic column). Vocabulary: real / synthetic / mixed (absent: nothing staged).
-- published_marts stamps this status on every mart; a mixed build is refused.
SELECT
    CASE WHEN count(*) = 0 THEN 'absent'
         WHEN bool_and(data_status = 'synthetic') THEN 'synthetic'
         WHEN bool_or(data_status = 'synthetic') THEN 'mixed'
         ELSE 'real' END AS data_status,
    string_agg(file, '; ' ORDER BY file) FILTER (WHERE data_status = 'synthetic')
        AS synthetic_files
FROM _sources
