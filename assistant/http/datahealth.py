"""Data health for ``GET /v1/health/data`` and the web page: what the pipeline already wrote, read back.

Nothing here computes or changes data; each part has one owner that writes it:

================  ==========================================================================
freshness         the silver table's newest data commit and when it was written
                  (``warehouse.backends.versions.freshness``, shared with the metrics exporter;
                  the same number answers carry as ``data_version``)
batches           the ingest ledger's committed batches (``spark_jobs.bronze.Ledger``) with their
                  row accounting, input = written + quarantined + duplicates; the DQ verdict and
                  Data Docs page of each (``dq.results``)
quarantine        rows by reason code over the whole quarantine table
                  (``warehouse.maintenance.quarantine_summary``)
streams           each consumer's last micro-batch (``streaming.metrics``): lag from event to
                  queryable, events, dead letters; only consumers that have run have a file
================  ==========================================================================

Data Docs pages are served by ``data_docs_page`` under the API's auth; they are Great
Expectations' own HTML, whose CDN stylesheets and scripts the response's policy keeps from loading.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
import json
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from fastapi.responses import FileResponse
from starlette.exceptions import HTTPException

from assistant.http.auth import Forbidden, Principal
from assistant.http.schemas import BatchHealth, DatasetHealth, DataHealthOut, QuarantineHealth, StreamHealth
from dq.results import batch_result_path, data_docs_dir
from spark_jobs.bronze import Ledger
from streaming import metrics as stream_metrics
from retail_insights.settings import get_settings
from warehouse.backends.versions import freshness
from warehouse.maintenance import quarantine_summary
from warehouse.spec import load_dataset

DOCS_URL = "/v1/data-docs/"
# Data Docs load Great Expectations' CSS and JS from public CDNs: refuse every load (offline they
# read fine unstyled), so opening one never sends a request off the machine.
DOCS_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"


def report(*, datasets: Sequence[str], last: int, now: datetime) -> DataHealthOut:
    """Freshness, the ``last`` batches and the quarantine of each dataset; every consumer's lag.

    Paths come from ``get_settings()``, as they do for the pipeline modules that wrote the files.
    """
    index = data_docs_dir() / "index.html"
    return DataHealthOut(datasets=[_dataset(name, last=last, now=now) for name in datasets],
                         streams=_streams(now=now),
                         data_docs_url=DOCS_URL + "index.html" if index.is_file() else None)


def _dataset(name: str, *, last: int, now: datetime) -> DatasetHealth:
    path = get_settings().table_path(name, load_dataset(name).spec.silver_table)
    fresh = freshness(path)
    written = fresh.committed_at if fresh is not None else None
    quarantine = quarantine_summary(name)
    return DatasetHealth(name=name, data_version=fresh.data if fresh is not None else None,
                         updated_at=written.isoformat() if written else None,
                         age_s=round((now - written).total_seconds(), 1) if written else None,
                         batches=_batches(name, last=last),
                         quarantine=QuarantineHealth(total_rows=quarantine.rows, by_code=quarantine.by_code))


def _batches(dataset: str, *, last: int) -> list[BatchHealth]:
    events = Ledger(get_settings().state_dir, dataset).events()
    started = {e["batch_id"]: e.get("at") for e in events if e.get("event") == "started"}
    committed = [e for e in events if e.get("event") == "committed"]
    return [_batch(dataset, e["summary"], at=started.get(e["batch_id"])) for e in reversed(committed[-last:])]


def _batch(dataset: str, summary: dict[str, Any], *, at: str | None) -> BatchHealth:
    batch_id = summary["batch_id"]
    counts = {k: int(summary[k]) for k in ("input_rows", "written_rows", "quarantined_rows", "duplicate_rows",
                                           "warning_rows")}
    result = batch_result_path(dataset, batch_id)
    verdict = bool(json.loads(result.read_text(encoding="utf-8"))["success"]) if result.is_file() else None
    page = data_docs_dir() / dataset / f"{batch_id}.html"
    return BatchHealth(
        batch_id=batch_id, at=at, files=[PurePosixPath(f).name for f in summary.get("files", [])], **counts,
        quarantined_by_code=dict(summary.get("quarantined_by_code") or {}),
        accounted=counts["input_rows"] == counts["written_rows"] + counts["quarantined_rows"]
        + counts["duplicate_rows"],
        delta_version=summary.get("delta_version"), dq_passed=verdict,
        data_docs_url=f"{DOCS_URL}{quote(dataset)}/{quote(batch_id)}.html" if page.is_file() else None)


def _streams(*, now: datetime) -> list[StreamHealth]:
    folder = get_settings().state_dir / "streaming"
    streams = []
    for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else []:
        batches = stream_metrics.recent(path, limit=50)
        if not batches:
            continue
        newest = batches[-1]
        finished = datetime.fromisoformat(newest["finished_at"])
        streams.append(StreamHealth(name=path.stem, last_batch_at=newest["finished_at"],
                                    last_batch_age_s=round((now - finished).total_seconds(), 1),
                                    lag_p95_s=newest.get("freshness_p95_s"), events=newest["events"],
                                    written=newest["written"], dlq=newest["dlq"], batches=len(batches)))
    return streams


def data_docs_page(page: str, who: Principal) -> FileResponse:
    """One Data Docs file (``index.html`` or ``<dataset>/<batch>.html``); 404 for anything else.

    A batch page needs its dataset in the key's scope; the index, which lists every dataset, a key
    that may read them all.
    """
    parts = Path(page).parts
    if len(parts) > 1:
        who.require_dataset(parts[0])
    elif who.datasets is not None:
        raise Forbidden(f"API key {who.name!r} may not read the Data Docs index: it lists every dataset.",
                        hint="Open the batch pages of your datasets from GET /v1/health/data.")
    root = data_docs_dir().resolve()
    target = (root / page).resolve()
    if not page.endswith(".html") or not target.is_relative_to(root) or not target.is_file():
        raise HTTPException(404, f"no Data Docs page {page!r}: pages are index.html and <dataset>/<batch_id>.html "
                                 "of validated batches (see GET /v1/health/data).")
    return FileResponse(target, media_type="text/html", headers={"Content-Security-Policy": DOCS_POLICY})

