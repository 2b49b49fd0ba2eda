"""The Dask engine (default): chunks run as tasks on a local process cluster, or in-process.

Memory stays bounded by construction: the driver plans chunks lazily and keeps at most two
tasks per worker in flight, each task reads its own byte range and writes its own staged
files, and only a few numbers per chunk come back. Processes, not threads, because the
transform is pandas/Python work that holds the GIL.

The cluster outlives one batch: a process that ingests again (a test session, a long-running
service) reuses warm workers instead of paying process start-up and the validation suite's
first build again. It is shut down when the process exits, or by ``shutdown()``.

``where`` may also be the address of an existing Dask scheduler (``tcp://host:port``): the
chunks run on its workers, which must see the batch's files and staging folder at the same
paths (one machine, or a shared file system). The client is kept per address; this module never
stops a cluster it did not start.

A small batch (``settings.pipeline.in_process_max_bytes``) runs ``where="in-process"``: the
chunks are staged one after another in the calling process, which is what Dask's synchronous
scheduler would do, minus the graph. Starting worker processes and importing Great Expectations
in each costs far more than such a batch's work; the staged files and numbers are the same.
"""

from __future__ import annotations

import atexit
from collections.abc import Callable, Iterable
import logging
import re
import threading
from typing import Any
import uuid

from retail_insights.errors import RetryableError, UsageError
from retail_insights.settings import DASK_SCHEDULER_ADDRESS
from spark_jobs.readers import Chunk
from spark_jobs.stage import ChunkStats, StageJob, stage_chunk

Where = str  # "local" (the process's LocalCluster), "in-process", or a scheduler's address
_IN_FLIGHT_PER_WORKER = 2
_lock = threading.Lock()
_state: dict[str, Any] = {}


def run(
    chunks: Iterable[Chunk],
    job: StageJob,
    *,
    workers: int | None = None,
    where: Where = "local",
    on_progress: Callable[[int, int | None], None] = lambda done, total: None,
) -> list[ChunkStats]:
    """Stage every chunk on the process's ``LocalCluster``, or ``where="in-process"`` in this
    process in order, or ``where="tcp://host:port"`` on that scheduler's workers; results in
    completion order.

    ``on_progress(done, total)`` hears finished chunks; ``total`` is None while chunks are still
    being planned. The first failing chunk's exception is raised; the batch's other tasks are
    cancelled.
    """
    if where == "in-process":
        return _run_in_process(chunks, job, on_progress=on_progress)
    from distributed import as_completed

    n_workers = workers or 2
    client = connect(n_workers) if where == "local" else connect_to(where)
    if where != "local":
        n_workers = max(1, len(client.scheduler_info()["workers"]))
    pending = as_completed(loop=client.loop)  # a scheduler's client is not the default one
    submitted: list[Any] = []
    results: list[ChunkStats] = []
    total: int | None = None

    def collect_one() -> None:
        results.append(next(pending).result())  # re-raises the task's exception here
        on_progress(len(results), total)

    try:
        for chunk in chunks:
            # unique keys: a re-run of a failed batch must not be handed the old, failed futures
            key = f"stage-{job.batch_id}-{chunk.file_index}-{chunk.index}-{uuid.uuid4().hex[:8]}"
            submitted.append(client.submit(stage_chunk, chunk, job, key=key, pure=False))
            pending.add(submitted[-1])
            while pending.count() >= n_workers * _IN_FLIGHT_PER_WORKER:
                collect_one()
        total = len(submitted)
        on_progress(len(results), total)
        while pending.count():
            collect_one()
    except BaseException:
        client.cancel(submitted)
        raise
    return results


def _run_in_process(chunks: Iterable[Chunk], job: StageJob, *,
                    on_progress: Callable[[int, int | None], None]) -> list[ChunkStats]:
    results = []
    for chunk in chunks:
        results.append(stage_chunk(chunk, job))
        on_progress(len(results), None)
    on_progress(len(results), len(results))
    return results


def connect(n_workers: int) -> Any:
    """The process's client on a LocalCluster of ``n_workers`` (started on first use)."""
    from distributed import Client, LocalCluster

    with _lock:
        if _state.get("workers") != n_workers or _state["client"].status != "running":
            _shutdown_locked()
            cluster = LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            _state.update(cluster=cluster, client=Client(cluster), workers=n_workers)
            if not _state.get("atexit"):
                atexit.register(shutdown)
                _state["atexit"] = True
        return _state["client"]


def check_address(address: str) -> None:
    """Refuse what cannot be a scheduler's address before a batch starts."""
    if not re.match(DASK_SCHEDULER_ADDRESS, address):
        raise UsageError(f"{address!r} is not a Dask scheduler address.",
                         hint="Fix: pass tcp://host:port, as `dask scheduler` prints it.")


def connect_to(address: str) -> Any:
    """A client of the existing Dask scheduler at ``address`` (kept for the next batch)."""
    from distributed import Client

    check_address(address)
    with _lock:
        clients: dict[str, Any] = _state.setdefault("remote", {})
        if address not in clients or clients[address].status != "running":
            try:
                clients[address] = Client(address, timeout=10, set_as_default=False)
            except OSError as exc:
                raise RetryableError(f"no Dask scheduler answers at {address!r} ({exc}).",
                                     hint="Fix: start one (`dask scheduler`, then `dask worker "
                                     f"{address}`), or drop --dask-scheduler to run locally.") from None
            if not _state.get("atexit"):
                atexit.register(shutdown)
                _state["atexit"] = True
        return clients[address]


def worker_peak_rss() -> list[int]:
    """Peak resident memory (bytes) of each worker process of the running cluster ([] if none).

    Benchmarks read it: the driver's own peak says nothing about the workers, which hold the data.
    """
    with _lock:
        client = _state.get("client")
    if client is None or client.status != "running":
        return []
    return sorted(client.run(_peak_rss).values())


def _peak_rss() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def shutdown() -> None:
    """Stop the cluster this module started (workers exit); the next run starts a fresh one.

    Clients of existing schedulers (``connect_to``) are closed; their clusters keep running.
    """
    with _lock:
        for remote in _state.pop("remote", {}).values():
            remote.close()
        _shutdown_locked()


def _shutdown_locked() -> None:
    client, cluster = _state.pop("client", None), _state.pop("cluster", None)
    _state.pop("workers", None)
    if client is not None:
        client.close()
    if cluster is not None:
        cluster.close()
