"""retail_insights.ingest_report: the row accounting, quarantine reasons and phase times in text."""

from __future__ import annotations

from retail_insights.ingest_report import ingest_text


def test_the_ingest_summary_for_people_names_quarantine_reasons_and_phase_times():
    text = ingest_text({
        "input_rows": 10, "written_rows": 7, "quarantined_rows": 2, "duplicate_rows": 1,
        "warning_rows": 0, "delta_version": 3, "duration_s": 1.25,
        "quarantined_by_code": {"BAD_STATE": 1, "BAD_COST": 1}, "phases_s": {"stage": 0.5, "views": 0.25},
    })
    assert text.splitlines() == [
        "input 10  written 7  quarantined 2  duplicates 1  warnings 0  delta version 3  in 1.2s",
        "quarantined by reason: BAD_COST 1, BAD_STATE 1",
        "seconds by phase: stage 0.5, views 0.2",
    ]
