"""The Spark engine: the same per-chunk function, scheduled by Spark (``local[2]`` or a cluster).

Spark gets one row per chunk (the chunk's description as JSON, one partition each) and runs
``stage_chunk`` on it inside ``mapInPandas``; the Python workers read their byte range and write
the staged Parquet files themselves, into the staging folder and nowhere else. Spark's own
Parquet writer is not used on purpose: it moves partition columns out of the files into folder
names, writes INT96 timestamps unless told otherwise and can produce only one output per pass,
while the commit layer wants both the clean and the quarantine rows, one partition per file,
with the table's exact types. Letting the workers stage Arrow files keeps the two engines
byte-identical; the commit after it is the same for both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
import json
import os
import sys
import threading
from typing import Any

from spark_jobs.readers import Chunk
from spark_jobs.stage import ChunkStats, StageJob, stage_chunk

_sessions: dict[str, Any] = {}
_lock = threading.Lock()


def session(master: str) -> Any:
    """A SparkSession on ``master``, shared by every call (JVM start-up is slow).

    One SparkContext per process: asking for another master stops the current session first.
    """
    with _lock:
        if master in _sessions:
            return _sessions[master]
        for other in list(_sessions):
            _sessions.pop(other).stop()
        from pyspark.sql import SparkSession

        # Spark must bind and advertise loopback only; the variable is read by the JVM launcher.
        os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
        # PySpark takes the workers' interpreter from this variable (the conf alone is ignored in
        # local mode); this venv's Python is the one that has the project installed.
        os.environ["PYSPARK_PYTHON"] = sys.executable
        spark = (
            SparkSession.builder.master(master)
            .appName("retail-insights-ingest")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.ui.enabled", "false")
            .config("spark.pyspark.python", sys.executable)
            .config("spark.pyspark.driver.python", sys.executable)
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.python.worker.reuse", "true")
            .config("spark.task.maxFailures", "2")
            .config("spark.executor.memory", "1g")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        _sessions[master] = spark
        return spark


def stop_sessions() -> None:
    """Stop every session this module started (tests call it at session end)."""
    with _lock:
        for master in list(_sessions):
            _sessions.pop(master).stop()


def run(
    chunks: Iterable[Chunk],
    job: StageJob,
    *,
    master: str | None = None,
    on_progress: Callable[[int, int | None], None] = lambda done, total: None,
) -> list[ChunkStats]:
    """Stage every chunk as one Spark task each; results in chunk order.

    ``on_progress(done, total)`` hears finished chunks (Spark's status tracker), for a progress bar.
    """
    planned = list(chunks)
    on_progress(0, len(planned))
    if not planned:
        return []
    spark = session(master or "local[2]")
    rows = [(i, json.dumps(asdict(c))) for i, c in enumerate(planned)]
    frame = spark.createDataFrame(
        spark.sparkContext.parallelize(rows, numSlices=len(rows)), "i long, chunk string"
    )
    staged = frame.mapInPandas(_stage_batches(job), schema="i long, stats string")
    group = f"stage-{job.batch_id}"
    sc = spark.sparkContext
    done = threading.Event()
    outcome: dict[str, Any] = {}

    def collect() -> None:
        sc.setJobGroup(group, f"stage batch {job.batch_id}", interruptOnCancel=True)
        try:
            outcome["rows"] = staged.collect()
        except BaseException as exc:  # re-raised on the calling thread
            outcome["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=collect, name=group, daemon=True)
    worker.start()
    while not done.wait(0.5):
        on_progress(min(_finished_tasks(sc, group), len(planned)), len(planned))
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    on_progress(len(planned), len(planned))
    return [
        ChunkStats.from_json(row["stats"]) for row in sorted(outcome["rows"], key=lambda r: r["i"])
    ]


def _stage_batches(job: StageJob) -> Callable[[Iterator[Any]], Iterator[Any]]:
    def stage(batches: Iterator[Any]) -> Iterator[Any]:
        import pandas as pd

        for batch in batches:
            out = []
            for i, text in zip(batch["i"].tolist(), batch["chunk"].tolist()):
                data = json.loads(text)
                data["header"] = tuple(data["header"])
                out.append((i, stage_chunk(Chunk(**data), job).to_json()))
            yield pd.DataFrame(out, columns=["i", "stats"])

    return stage


def _finished_tasks(sc: Any, group: str) -> int:
    tracker = sc.statusTracker()
    finished = 0
    for job_id in tracker.getJobIdsForGroup(group):
        info = tracker.getJobInfo(job_id)
        for stage_id in info.stageIds if info else ():
            stage = tracker.getStageInfo(stage_id)
            finished += stage.numCompletedTasks if stage else 0
    return finished
