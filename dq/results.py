"""Validation results of a batch: one JSON file, one Data Docs page, and an index of every batch.

``write_batch_result`` merges the per-partition GE summaries of one batch into
``settings.dq_dir / <dataset> / <batch_id>.json`` (rewritten whole, so re-running a batch replaces
its result) and renders ``settings.dq_dir / "data_docs" / <dataset> / <batch_id>.html`` with Great
Expectations' own Data Docs renderer (``ValidationResultsPageRenderer`` + ``DefaultJinjaPageView``)
from the merged result. GE's site builder needs a file context with stores, which the pipeline
does not keep, so the index page (``data_docs/index.html``) is plain HTML generated from the JSON
files. The pages load GE's CSS/JS from public CDNs; offline they show unstyled but complete.
"""

from __future__ import annotations

from collections.abc import Sequence
import html
import json
import os
from pathlib import Path
import re
from typing import Any, Protocol
from urllib.parse import quote

from dq.runner import SAMPLE_SIZE, load_suite
from retail_insights.errors import UsageError
from retail_insights.settings import get_settings
from warehouse.spec import load_dataset

_BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:=+@-]*$")  # a file name: no "/", no leading dot
_COUNTS = ("input_rows", "clean_rows", "quarantined_rows", "warning_rows")


class PartitionOutcome(Protocol):
    """What this module reads from ``spark_jobs.transform.PartitionResult`` (dq does not import it)."""

    validation: dict


def batch_result_path(dataset: str, batch_id: str) -> Path:
    _check_batch_id(batch_id)
    return get_settings().dq_dir / dataset / f"{batch_id}.json"


def merge_validations(dataset: str, batch_id: str, validations: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One batch summary from its partitions' summaries: counts add up, samples are kept up to a limit."""
    # A dimension table's batch ran its own suite: each partition's summary names it.
    names = {v["suite"] for v in validations if v.get("suite")}
    suite = load_suite(names.pop() if len(names) == 1 else load_dataset(dataset).spec.validation_suite)
    for v in validations:
        if (v.get("dataset"), v.get("batch_id")) != (dataset, batch_id):
            raise UsageError(f"a partition of dataset {v.get('dataset')!r} batch {v.get('batch_id')!r} was "
                             f"given for dataset {dataset!r} batch {batch_id!r}.",
                             hint="Fix: pass only the partitions of this batch.")
    rules = [{"rule": i, "code": r.code, "severity": r.severity, "reason": r.reason, "expectation": r.expectation,
              "kwargs": r.gx_kwargs, "success": True, "element_count": 0, "unexpected_count": 0,
              "missing_count": 0, "samples": []} for i, r in enumerate(suite.rules)]
    for v in validations:
        for part in v["rules"]:
            merged = rules[part["rule"]]
            merged["kwargs"] = part["kwargs"]  # with the batch's parameter values filled in
            merged["success"] = merged["success"] and part["success"]
            for key in ("element_count", "unexpected_count", "missing_count"):
                merged[key] += part[key]
            room = SAMPLE_SIZE - len(merged["samples"])
            merged["samples"] += [{**s, "source_file": v["source_file"]} for s in part["samples"][:room]]
    evaluated = len(rules)
    successful = sum(r["success"] for r in rules)
    return {
        "dataset": dataset,
        "batch_id": batch_id,
        "suite": suite.name,
        "gx_version": validations[0]["gx_version"] if validations else None,
        "ingested_at": min((v["ingested_at"] for v in validations), default=None),
        "source_files": sorted({v["source_file"] for v in validations}),
        "partitions": len(validations),
        **{key: sum(v[key] for v in validations) for key in _COUNTS},
        "quarantined_by_code": _add_counts(v["quarantined_by_code"] for v in validations),
        "warnings_by_code": _add_counts(v["warnings_by_code"] for v in validations),
        "success": successful == evaluated,
        "statistics": {"evaluated_expectations": evaluated, "successful_expectations": successful,
                       "unsuccessful_expectations": evaluated - successful,
                       "success_percent": 100.0 * successful / evaluated},
        "rules": rules,
    }


def write_batch_result(dataset: str, batch_id: str, partition_results: Sequence[PartitionOutcome]) -> Path:
    """Write the batch's merged validation result and its Data Docs page; return the JSON path."""
    merged = merge_validations(dataset, batch_id, [p.validation for p in partition_results])
    path = batch_result_path(dataset, batch_id)
    _write_atomically(path, json.dumps(merged, indent=2, sort_keys=True))
    docs = data_docs_dir()
    _write_atomically(docs / dataset / f"{batch_id}.html", render_page(merged))
    _write_atomically(docs / "index.html", render_index(read_all_results()))
    return path


def read_batch_results(dataset: str) -> list[dict[str, Any]]:
    """Every stored batch result of ``dataset`` (unordered)."""
    folder = get_settings().dq_dir / dataset
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def read_all_results() -> list[dict[str, Any]]:
    root = get_settings().dq_dir
    if not root.exists():
        return []
    return [r for d in sorted(p.name for p in root.iterdir() if p.is_dir() and p.name != "data_docs")
            for r in read_batch_results(d)]


def data_docs_dir() -> Path:
    return get_settings().dq_dir / "data_docs"


def render_page(merged: dict[str, Any]) -> str:
    """The batch's Data Docs page, rendered by Great Expectations from the merged result."""
    from great_expectations.core import ExpectationSuiteValidationResult, ExpectationValidationResult
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    results = []
    for rule in merged["rules"]:
        checked = rule["element_count"]
        result = {
            "element_count": checked,
            "unexpected_count": rule["unexpected_count"],
            "unexpected_percent": 100.0 * rule["unexpected_count"] / checked if checked else 0.0,
            "missing_count": rule["missing_count"],
            "missing_percent": 100.0 * rule["missing_count"] / checked if checked else 0.0,
            "partial_unexpected_list": [s["value"] for s in rule["samples"]],
        }
        config = ExpectationConfiguration(type=rule["expectation"], kwargs=rule["kwargs"],
                                          meta={"code": rule["code"], "reason": rule["reason"]},
                                          severity=rule["severity"], description=f"{rule['code']}: {rule['reason']}")
        results.append(ExpectationValidationResult(success=rule["success"], expectation_config=config,
                                                   result=result))
    suite_result = ExpectationSuiteValidationResult(
        success=merged["success"], results=results, suite_name=merged["suite"], statistics=merged["statistics"],
        meta={"run_id": RunIdentifier(run_name=merged["batch_id"], run_time=merged["ingested_at"]).to_json_dict(),
              "dataset": merged["dataset"], "batch_id": merged["batch_id"],
              **{key: merged[key] for key in _COUNTS}},
    )
    return DefaultJinjaPageView().render(ValidationResultsPageRenderer().render(suite_result))


def render_index(results: Sequence[dict[str, Any]]) -> str:
    """A plain HTML table of every batch, newest first, linking to its Data Docs page."""
    rows = []
    for r in sorted(results, key=lambda r: (r["ingested_at"] or "", r["batch_id"]), reverse=True):
        by_code = {**r["quarantined_by_code"], **r["warnings_by_code"]}
        codes = ", ".join(f"{c} {n:,}" for c, n in sorted(by_code.items()))
        link = html.escape(f"{quote(r['dataset'])}/{quote(r['batch_id'])}.html")  # "stream:..." is no URL scheme
        cells = [f'<a href="{link}">{html.escape(r["batch_id"])}</a>', html.escape(r["dataset"]),
                 html.escape(r["ingested_at"] or ""), *(f"{r[k]:,}" for k in _COUNTS),
                 "passed" if r["success"] else "failed", html.escape(codes)]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in ("batch", "dataset", "ingested at", "input", "clean", "quarantined",
                                             "with warnings", "suite", "rows by code"))
    return ("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Retail Insights data quality</title>"
            "<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:left}</style></head>"
            f"<body><h1>Data quality: validation results</h1><table><tr>{head}</tr>{''.join(rows)}</table>"
            "</body></html>\n")


def _add_counts(dicts: Any) -> dict[str, int]:
    total: dict[str, int] = {}
    for counts in dicts:
        for code, n in counts.items():
            total[code] = total.get(code, 0) + n
    return dict(sorted(total.items()))


def _check_batch_id(batch_id: str) -> None:
    if not _BATCH_ID.match(batch_id):
        raise UsageError(f"batch id {batch_id!r} cannot name a file.",
                         hint="Allowed: letters, digits and . _ : = + @ - (not first). Fix: choose such an id.")


def _write_atomically(path: Path, text: str) -> None:
    """Readers never see half a file: write beside it, then rename over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
