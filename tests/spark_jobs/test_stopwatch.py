"""spark_jobs.stopwatch: seconds per phase of a batch."""

from __future__ import annotations

import pytest

from spark_jobs.stopwatch import Stopwatch


def test_laps_of_one_name_add_up_and_other_names_keep_their_own() -> None:
    clock = Stopwatch()
    for _ in range(2):
        with clock.lap("stage"):
            pass
    with clock.lap("merge"):
        pass
    assert set(clock.laps) == {"stage", "merge"}
    assert all(seconds >= 0 for seconds in clock.laps.values())


def test_a_phase_that_fails_still_records_its_time() -> None:
    clock = Stopwatch()
    with pytest.raises(RuntimeError), clock.lap("merge"):
        raise RuntimeError("conflict")
    assert "merge" in clock.laps
