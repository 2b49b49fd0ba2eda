"""spark_jobs.load: the batch's commits and the row accounting that must add up."""

from __future__ import annotations

from pathlib import Path

import pytest

from retail_insights.errors import DataError
from spark_jobs.load import Tables, commit_batch
from spark_jobs.stage import ChunkStats
from warehouse.spec import load_dataset


def test_accounting_that_does_not_add_up_fails_loudly_with_the_numbers(tmp_path: Path) -> None:
    stats = ChunkStats(
        file_index=0,
        chunk_index=0,
        input_rows=10,
        clean_rows=5,
        quarantined_rows=4,
        warning_rows=0,
        malformed_rows=0,
        quarantined_by_code={},
        validation={},
        clean_files=(),
        quarantine_files=(),
    )
    with pytest.raises(DataError, match="10 rows were read but 5 came out clean and 4 quarantined"):
        commit_batch(
            [stats],
            tables=Tables.of("retail_sales", load_dataset("retail_sales").spec),
            seq=1,
            staging=tmp_path,
        )
