"""``retail-insights dataset check``: a dataset's YAML against the loader, its suites and its data.

The YAML is loaded by the project's own loader (``warehouse.spec``) and suites by the runner's
(``dq.runner``), so "check passes" means "ingest and questions will load it". On top, what the
loader does not look at: metric SQL over unknown columns and suites over unknown columns. Then
the data (``retail_insights.onboarding.data_checks``). Every problem is one line: where (file:key),
what, and the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
import re

import sqlglot
from sqlglot import exp
import yaml

from retail_insights.errors import RetailError
from retail_insights.onboarding.data_checks import check_data
from retail_insights.onboarding.problems import CheckReport, Problem
from warehouse.dataset_folders import SUITES_FOLDER, dataset_folder
from warehouse.spec import Dataset, DatasetSpec, SemanticModel, load_dataset_from


def check_dataset(name: str, *, data: Sequence[Path] | None = None) -> CheckReport:
    folder = dataset_folder(name)
    report = CheckReport(dataset=name, folder=folder)
    dataset = _load(folder, report)
    spec = dataset.spec if dataset is not None else _spec_alone(folder)
    if spec is None:
        return report
    if spec.name != name:
        report.problems.append(Problem("dataset.yaml:name", f"name {spec.name!r} differs from the folder {name!r}.",
                                       f"set `name: {name}`."))
    _check_suites(spec, report)
    if dataset is not None:
        report.problems += metric_problems(dataset.spec, dataset.semantic)
        report.checked["metrics"] = len(dataset.semantic.metrics)
        report.checked["dimensions"] = len(dataset.semantic.dimensions)
    check_data(name, spec, dataset.semantic if dataset is not None else None, data, report)
    return report


def problem_of(exc: RetailError, default_where: str) -> Problem:
    """A loader error as a problem: its file and key (when the message names them) and its fix."""
    text = str(exc)
    what, _, fix = text.partition(" Fix: ")
    file = re.search(r"([\w.-]+\.yaml)", what)
    key = re.search(r" at ([\w.]+)", what) or re.search(r"at '([\w.]+)'", what) or re.search(r"key '([\w.]+)'", what)
    where = (file.group(1) if file else default_where) + (f":{key.group(1)}" if key else "")
    what = re.sub(r"^\S+\.yaml: ", "", what).strip()
    return Problem(where, what, fix.strip() or "see the message.")


def _load(folder: Path, report: CheckReport) -> Dataset | None:
    try:
        return load_dataset_from(folder)
    except RetailError as exc:
        report.problems.append(problem_of(exc, "dataset.yaml"))
        return None


def _spec_alone(folder: Path) -> DatasetSpec | None:
    """The physical spec when only the semantic model failed: the data can still be checked."""
    try:
        return DatasetSpec.model_validate(yaml.safe_load((folder / "dataset.yaml").read_text(encoding="utf-8")))
    except Exception:  # the loader's message is already reported
        return None


def _check_suites(spec: DatasetSpec, report: CheckReport) -> None:
    from dq.runner import load_suite

    for table in (None, *spec.dimension_tables):
        part = spec.table_spec(table)
        where = f"{SUITES_FOLDER}/{part.validation_suite}.yaml"
        try:
            suite = load_suite(part.validation_suite)
        except RetailError as exc:
            report.problems.append(problem_of(exc, where))
            continue
        known = set(part.column_names) | {f"{c.name}__rejected" for c in part.source.columns if c.type != "string"}
        known |= {f"{c}__unknown" for c in (spec.references if table is None else {})}
        for index, rule in enumerate(suite.rules):
            for column in rule.columns:
                if column not in known:
                    report.problems.append(Problem(
                        f"{where}:rules.{index}", f"rule {rule.code} checks unknown column {column!r}.",
                        f"use a column of {part.silver_table} (or <column>__rejected / <reference>__unknown)."))


def _columns(sql: str) -> set[str]:
    tree = sqlglot.parse_one(sql, read="duckdb")
    return {".".join(p for p in (c.table, c.name) if p) for c in tree.find_all(exp.Column)}


def metric_problems(spec: DatasetSpec, sem: SemanticModel) -> list[Problem]:
    """Metric SQL over columns the fact does not have (base) or the views do not (additive)."""
    fact = set(spec.column_names)
    joined = {f"{name}.{c}" for name, t in sem.tables.items() for c in spec.table_spec(t.table).column_names}
    view = set(sem.view_columns.measures) | set(sem.view_columns.dimensions)
    problems = []
    for name, metric in sem.metrics.items():
        for key, sql, allowed, fix in (("base", metric.base, fact | joined, "use a column of dataset.yaml"),
                                       ("additive", metric.additive, view, "use a view_columns measure")):
            try:
                unknown = sorted(_columns(sql) - allowed) if sql else []
            except sqlglot.errors.ParseError as exc:
                problems.append(Problem(f"semantic.yaml:metrics.{name}.{key}", f"{sql!r} is not SQL ({exc}).",
                                        "write one SQL expression."))
                continue
            if unknown:
                problems.append(Problem(f"semantic.yaml:metrics.{name}.{key}",
                                        f"metric {name!r} reads unknown column {unknown[0]!r}.",
                                        f"{fix} ({', '.join(sorted(allowed)[:12])}...)."))
    for name, sql in sem.view_columns.measures.items():
        unknown = sorted(_columns(sql) - fact)
        if unknown:
            problems.append(Problem(f"semantic.yaml:view_columns.measures.{name}",
                                    f"view measure {name!r} reads unknown column {unknown[0]!r}.",
                                    "use a column of dataset.yaml."))
    return problems
