-- The one disclosure rule of DEDI (docs/method.md, "Disclosure control"): a count from 1 to
-- min_count - 1 is small. A small count is published as NULL, and so is every value that would
-- reveal it (a rate with its denominator). Zero is published: it reveals no one, as in NHS
-- Digital's own suppression of counts 1-7. pipeline/method/disclosure.py applies the same rule
-- to the frames Python publishes; tests/unit/method/test_disclosure.py checks that both agree.
-- min_count is settings.yaml suppression.min_count, set as a DuckDB variable by the model runner
-- (pipeline/defs/_staging.py run_sql_model) before these macros are loaded, for every model.
CREATE OR REPLACE MACRO is_small_count(n) AS n > 0 AND n < getvariable('min_count');
CREATE OR REPLACE MACRO published_count(n) AS CASE WHEN is_small_count(n) THEN NULL ELSE n END;
-- A rate per 100 whose denominator is small would give the denominator back with the public
-- numerator (e.g. a File 8 count over a population of 7), so it is NULL, as the count is.
CREATE OR REPLACE MACRO published_rate(num, den) AS
    CASE WHEN den IS NULL OR den = 0 OR is_small_count(den) THEN NULL ELSE 100.0 * num / den END;
