"""The proof: init -> check -> ingest -> ask on the Superstore CSV gives the shipped dataset's number.

Runs the real command line in subprocesses (real DuckDB profiling, the real Dask ingest, the real
question pipeline) against a temporary RETAIL_HOME; the CSV is ~10k rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retail_insights.settings import get_settings
from tests.assistant.warehouse_builder import SUPERSTORE_FILE
from tests.retail_insights.test_cli import run_cli


@pytest.fixture
def superstore_csv() -> Path:
    """The real Superstore CSV the project ships with (../shared/data/superstore), as every Superstore test uses."""
    path = get_settings().superstore_dir / SUPERSTORE_FILE
    assert path.is_file(), f"{path} is missing: the Superstore CSV ships in ../shared/data/superstore (setting superstore_dir)"
    return path


def ask(dataset: str, home: Path) -> dict:
    done = run_cli("ask", "--dataset", dataset, "total sales in 2016", "--json", env={"RETAIL_HOME": str(home)})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_an_unedited_superstore_draft_ingests_and_answers_as_the_shipped_dataset(superstore_csv, tmp_path):
    env = {"RETAIL_HOME": str(tmp_path / "home")}
    init = run_cli("dataset", "init", "superstore_draft", "--from", str(superstore_csv), env=env)
    assert init.returncode == 0, init.stderr
    assert "profiled superstore_2014_2017.csv: 9,994 rows, 21 columns, key row_id" in init.stdout
    check = run_cli("dataset", "check", "superstore_draft", "--data", str(superstore_csv), env=env)
    assert check.returncode == 0 and check.stdout.startswith("ok: superstore_draft: "), check.stdout + check.stderr
    for dataset in ("superstore_draft", "superstore"):
        done = run_cli("ingest", "--dataset", dataset, str(superstore_csv), "--json", env=env)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout.strip().splitlines()[-1])["written_rows"] == 9_994
    draft, shipped = ask("superstore_draft", tmp_path / "home"), ask("superstore", tmp_path / "home")
    assert draft["rows"] == shipped["rows"] == [[pytest.approx(609205.598)]]
    assert draft["answer"] == shipped["answer"] == "Sales between 2016-01-01 and 2016-12-31 (2016) were $609,205.60."
    # check without --data reads the files of the last ingest
    again = run_cli("dataset", "check", "superstore_draft", env=env)
    assert again.returncode == 0 and "files 1; rows 9,994" in again.stdout, again.stdout
