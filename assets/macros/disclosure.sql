-- The one disclosure rule of DEDI (docs/method.md, "Disclosure control"): a count from 1 to
-- min_count - 1 is small. A small count is published as NULL, and so is every value that would
-- reveal it (a rate with its denominator). Zero is published: it reveals no one, as in NHS
-- Digital's own suppression of counts 1-7. pipeline/method/disclosure.py applies the same rule
-- to the frames Python publishes; tests/unit/method/test_disclosure.py checks that both agree.
-- min_count is settings.yaml suppression.min_count, set as a DuckDB variable by the model runner.
CREATE OR REPLACE MACRO is_small_count(n) AS n > 0 AND n < getvariable('min_count');
CREATE OR REPLACE MACRO published_count(n) AS CASE WHEN is_small_count(n) THEN NULL ELSE n END;
