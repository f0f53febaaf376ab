"""Data quality: the Great Expectations runner for the JSON suites in ``expectations/``."""
