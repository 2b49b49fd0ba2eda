"""Suite parameters come from the batch's ingestion time, by name."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from dq.parameters import suite_parameters
from retail_insights.errors import ConfigError


def test_ten_years_before_the_29th_of_february_is_the_28th():
    got = suite_parameters(["ten_years_before_ingestion", "ingested_at"], ingested_at=datetime(2024, 2, 29, 8, tzinfo=UTC))
    assert got["ten_years_before_ingestion"] == pd.Timestamp("2014-02-28", tz="UTC")
    assert got["ingested_at"] == pd.Timestamp("2024-02-29T08:00", tz="UTC")


def test_an_unknown_parameter_names_the_known_ones():
    with pytest.raises(ConfigError, match="unknown suite parameter 'ingested'.*Did you mean 'ingested_at'"):
        suite_parameters(["ingested"], ingested_at=datetime(2024, 1, 1, tzinfo=UTC))
