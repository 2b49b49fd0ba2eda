"""Per-batch metrics: latency quantiles in bounded memory, and the JSON-lines file health reads."""

from __future__ import annotations

import numpy as np

from streaming.metrics import BatchStats, LatencyHistogram, append, metrics_path, quantiles, recent


def _stats(batch: int, p95: float | None = 1.5) -> BatchStats:
    return BatchStats(batch=batch, finished_at="2026-01-01T00:00:00+00:00", events=10, replayed=0,
                      written=9, duplicates=0, dlq=1, malformed=0, partitions=(0,), delta_versions=(3,),
                      freshness_p50_s=1.0, freshness_p95_s=p95, seconds=2.0, touched=((2026, 1),))


def test_histogram_quantiles_are_within_five_percent_and_never_below_the_true_value() -> None:
    rng = np.random.default_rng(1)
    latencies = rng.lognormal(mean=0.5, sigma=0.8, size=20_000)
    histogram = LatencyHistogram()
    for chunk in np.array_split(latencies, 7):
        histogram.add(chunk)
    for q in (0.5, 0.95):
        true = float(np.quantile(latencies, q))
        assert true <= histogram.quantile(q) <= true * 1.05


def test_an_empty_histogram_has_no_quantile_and_negative_latencies_count_as_zero() -> None:
    histogram = LatencyHistogram()
    assert histogram.quantile(0.95) is None
    histogram.add(np.array([-0.5]))  # a producer clock slightly ahead of ours
    assert histogram.quantile(0.5) == 0.001


def test_batch_quantiles_of_no_events_are_none() -> None:
    assert quantiles(np.empty(0)) == (None, None)
    assert quantiles(np.array([1.0, 2.0, 3.0])) == (2.0, 2.9)


def test_metrics_lines_read_back_in_order_and_a_torn_last_line_is_skipped(retail_home) -> None:
    path = metrics_path("pos/events", "group one")
    assert path.name == "pos_events.group_one.jsonl"
    for batch in (1, 2, 3):
        append(path, _stats(batch))
    with path.open("a") as out:
        out.write('{"batch": 4, "fini')  # a crash in the middle of a write
    records = recent(path, limit=10)
    assert [r["batch"] for r in records] == [1, 2, 3]
    assert records[0]["touched"] == [[2026, 1]]
    assert [r["batch"] for r in recent(path, limit=2)] == [3]  # the torn line is one of the two


def test_no_metrics_file_reads_as_no_batches(retail_home) -> None:
    assert recent(metrics_path("nothing", "here")) == []
