"""Data quality: declarative Great Expectations suites (``dq/suites/*.yaml``) and the one runner."""
