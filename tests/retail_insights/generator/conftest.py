"""Generated datasets shared by the generator tests (each built once per session)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from retail_insights.generator import GenerateResult, generate


def read_csv_rows(paths: list[Path]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in paths:
        with path.open(newline="", encoding="utf-8") as handle:
            rows.extend(csv.DictReader(handle))
    return rows


@pytest.fixture(scope="session")
def read_rows() -> Callable[[list[Path]], list[dict[str, str]]]:
    """Rows of CSV files as dicts of strings (the csv module: no type or NA guessing)."""
    return read_csv_rows


@pytest.fixture(scope="session")
def today() -> date:
    """The real date (UTC), fixed once so two runs in one session agree even across midnight."""
    return datetime.now(timezone.utc).date()


Feed = tuple[GenerateResult, list[dict[str, str]]]


def _generate(out: Path, **options: object) -> Feed:
    result = generate(out=out, progress=False, **options)  # type: ignore[arg-type]
    return result, read_csv_rows(result.files)


@pytest.fixture(scope="session")
def _default(tmp_path_factory: pytest.TempPathFactory, today: date) -> Feed:
    return _generate(tmp_path_factory.mktemp("default"), rows=20_000, seed=7, today=today)


@pytest.fixture(scope="session")
def _clean(tmp_path_factory: pytest.TempPathFactory, today: date) -> Feed:
    return _generate(tmp_path_factory.mktemp("clean"), rows=20_000, seed=11, dirty_rate=0.0,
                     start=date(2023, 1, 1), end=date(2024, 12, 31), today=today)


@pytest.fixture(scope="session")
def default_result(_default: Feed) -> GenerateResult:
    """20k rows with the default dirty rate and window."""
    return _default[0]


@pytest.fixture(scope="session")
def default_rows(_default: Feed) -> list[dict[str, str]]:
    return _default[1]


@pytest.fixture(scope="session")
def clean_result(_clean: Feed) -> GenerateResult:
    """20k rows, dirty_rate=0, two full calendar years (2023-2024)."""
    return _clean[0]


@pytest.fixture(scope="session")
def clean_rows(_clean: Feed) -> list[dict[str, str]]:
    return _clean[1]
