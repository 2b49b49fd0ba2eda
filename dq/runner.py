"""The one data-quality runner: a declarative suite (``dq/suites/<name>.yaml``) run by Great Expectations.

A user's dataset carries its suites in its own folder (``<folder>/suites/<name>.yaml``, see
``warehouse.dataset_folders``); they are found by name like the project's.

A suite is data: one entry per rule (reason code, severity, GE expectation, column, kwargs). The
runner turns it into a GE ``ExpectationSuite`` once per process and thread (building a context is
cheap, importing GE is not), validates a pandas batch with ``result_format=COMPLETE`` and maps each
expectation's unexpected row indices back to its rule, so the caller learns which rows broke which
rule. GE decides; the caller only prepares typed columns for it to look at.

Great Expectations is imported lazily: it pulls in heavy dependencies (and pyspark when installed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
import threading
from typing import Any, Literal
import warnings

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
import yaml

from retail_insights.errors import ConfigError, DataError, UsageError, did_you_mean
from warehouse.dataset_folders import user_suite_files

SUITES_DIR = Path(__file__).parent / "suites"
SAMPLE_SIZE = 20  # unexpected values and rows kept per rule in the summary
Severity = Literal["critical", "warning"]
_COLUMN_KWARGS = ("column", "column_A", "column_B")
_PARAMETER = "$PARAMETER"


class Rule(BaseModel):
    """One rule: rows that fail ``expectation`` on ``column`` get ``code``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    severity: Severity
    reason: str
    expectation: str = Field(pattern=r"^expect_[a-z0-9_]+$")
    column: str | None = None
    kwargs: dict[str, Any] = {}

    @property
    def gx_kwargs(self) -> dict[str, Any]:
        return {**({"column": self.column} if self.column else {}), **self.kwargs}

    @property
    def columns(self) -> tuple[str, ...]:
        kwargs = self.gx_kwargs
        named = [kwargs[k] for k in _COLUMN_KWARGS if k in kwargs]
        return tuple(named) + tuple(kwargs.get("column_list", ()))

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(v[_PARAMETER] for v in self.kwargs.values() if isinstance(v, dict) and _PARAMETER in v)


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str
    rules: tuple[Rule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_severity_per_code(self) -> Suite:
        seen: dict[str, str] = {}
        for rule in self.rules:
            if seen.setdefault(rule.code, rule.severity) != rule.severity:
                raise ValueError(f"code {rule.code!r} is both {seen[rule.code]} and {rule.severity}; "
                                 "a code has one severity")
        return self

    def codes(self, severity: Severity | None = None) -> tuple[str, ...]:
        """Codes in first-use order, optionally only those of one severity."""
        return tuple(dict.fromkeys(r.code for r in self.rules if severity in (None, r.severity)))

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c for r in self.rules for c in r.columns))

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p for r in self.rules for p in r.parameters))


@dataclass(frozen=True)
class Validation:
    """Outcome of one batch: ``failed[row, rule]`` is True where the row broke that rule."""

    suite: Suite
    failed: np.ndarray
    summary: dict[str, Any]   # JSON-able: per rule, counts and a sample of unexpected values/rows

    def rows_with(self, code: str) -> np.ndarray:
        """Boolean mask of the rows that broke any rule with ``code``."""
        cols = [i for i, r in enumerate(self.suite.rules) if r.code == code]
        return self.failed[:, cols].any(axis=1)


def suite_files() -> dict[str, Path]:
    """Every suite's file by name: the project's (``dq/suites``) and those of user dataset folders."""
    project = {p.stem: p for p in sorted(SUITES_DIR.glob("*.yaml"))}
    user = user_suite_files()
    for name in sorted(project.keys() & user.keys()):
        raise ConfigError(f"validation suite {name!r} is defined twice: by the project in {project[name]} and "
                          f"by you in {user[name]}.", hint="Fix: rename yours (and the validation_suite naming it).")
    return {**project, **user}


def suite_names() -> list[str]:
    return sorted(suite_files())


def load_suite(name: str) -> Suite:
    """The suite stored as ``<name>.yaml`` (``dq/suites`` or a user dataset's ``suites``), checked key by key;
    read once per file version."""
    path = suite_files().get(name)
    if path is None:
        raise UsageError(f"unknown validation suite {name!r}.", hint=did_you_mean(name, suite_names()))
    return _read_suite(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=128)
def _read_suite(path: Path, stamp: int) -> Suite:
    name = path.stem
    try:
        suite = Suite.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc}).", hint="Fix: correct the YAML syntax.") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        if first["type"] == "extra_forbidden":
            model = Suite if len(first["loc"]) == 1 else Rule
            problem = f"unknown key {first['loc'][-1]!r} at {where}; allowed keys: {', '.join(model.model_fields)}"
        else:
            problem = f"bad value at {where}: {first['msg']}"
        raise ConfigError(f"{path}: not a valid suite: {problem}.",
                          hint="Fix: correct it (see dq/suites/retail_sales.yaml for the layout).") from None
    if suite.name != name:
        raise ConfigError(f"{path}: suite name {suite.name!r} differs from the file name {name!r}.",
                          hint="Fix: make them the same.")
    return suite


def validate(frame: pd.DataFrame, *, suite: str, parameters: Mapping[str, Any] | None = None) -> Validation:
    """Run suite ``suite`` over ``frame`` with Great Expectations and say which rows broke which rule.

    ``frame`` must hold every column the suite names; ``parameters`` fills the suite's
    ``{$PARAMETER: name}`` values (time-dependent bounds come in here, never from ``now()``).
    """
    spec = load_suite(suite)
    _check_inputs(spec, frame, parameters or {})
    frame = frame.set_axis(pd.RangeIndex(len(frame)), axis=0)  # GE reports index labels: make them positions
    # GE imports pyspark when it is installed, and pyspark warns about pandas 3 at each import check;
    # validation here runs on pandas, not Spark, so the notice says nothing about this path.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    from great_expectations.validator.v1_validator import Validator as GxValidator

    # GE's column-pair metrics read Series.values on zone-aware columns, which pandas 3.1 deprecates;
    # it still works, so keep the notice from flooding every batch's log (set per call: test runners
    # reset the warning filters between tests).
    warnings.filterwarnings("ignore", message="Series.values returning an ndarray that drops timezone")
    batch_definition, gx_suite = _gx_objects(spec)
    # The validator ValidationDefinition.run uses, minus storing every result in the context's store
    # (which would grow with each batch) and minus Batch.validate's second load (and hash) of the frame.
    validator = GxValidator(
        batch_definition=batch_definition,
        batch_parameters={"dataframe": frame},
        result_format={"result_format": "COMPLETE", "partial_unexpected_count": SAMPLE_SIZE,
                       "return_unexpected_index_query": False},
    )
    result = validator.validate_expectation_suite(gx_suite, expectation_parameters=dict(parameters or {}))
    failed = np.zeros((len(frame), len(spec.rules)), dtype=bool)
    rules_out: list[dict[str, Any]] = [{}] * len(spec.rules)
    for res in result.results:  # only row-level (map) expectations can decide codes
        index = int(res.expectation_config.meta["rule"])
        rule = spec.rules[index]
        error = _raised(res.exception_info)
        rows = res.result.get("unexpected_index_list") or []
        if error is None and len(rows) != (res.result.get("unexpected_count") or 0):
            error = f"{res.result.get('unexpected_count')} unexpected rows but {len(rows)} row indices"
        if error is not None or (not res.success and not rows):
            # A rule that could not run, or failed without naming rows, must not pass its rows silently.
            raise DataError(f"suite {suite!r}: rule {rule.code} ({rule.expectation} on {rule.columns}) failed "
                            f"to run: {error or 'it failed without naming the rows'}",
                            hint="Fix: give that column a type the expectation accepts, and use only "
                                 "row-level (column map) expectations in suites.")
        failed[np.asarray(rows, dtype=np.int64), index] = True
        rules_out[index] = _rule_summary(index, rule, res)
    if any(not r for r in rules_out):
        raise DataError(f"suite {suite!r}: Great Expectations returned {len(result.results)} results for "
                        f"{len(spec.rules)} rules.", hint="This is a bug in dq/runner.py; report it.")
    statistics = result.statistics
    summary = {
        "suite": spec.name,
        "gx_version": _gx_version(),
        "success": bool(result.success),
        "element_count": len(frame),
        "statistics": {k: statistics[k] for k in ("evaluated_expectations", "successful_expectations",
                                                  "unsuccessful_expectations")},
        "rules": rules_out,
    }
    return Validation(suite=spec, failed=failed, summary=summary)


def _check_inputs(spec: Suite, frame: pd.DataFrame, parameters: Mapping[str, Any]) -> None:
    missing = [c for c in spec.columns if c not in frame.columns]
    if missing:
        raise UsageError(f"suite {spec.name!r} needs columns {missing} that the batch does not have.",
                         hint=f"Columns given: {sorted(map(str, frame.columns))}. Fix: prepare them first.")
    absent = [p for p in spec.parameters if p not in parameters]
    if absent:
        raise UsageError(f"suite {spec.name!r} needs parameters {absent}.",
                         hint=f"Given: {sorted(parameters)}. Fix: pass them in `parameters`.")


def _raised(info: dict[str, Any] | None) -> str | None:
    """The exception message GE caught for an expectation, if any.

    GE reports it either flat or, when a metric failed, keyed by the metric's id.
    """
    if not info:
        return None
    nested = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    for entry in nested:
        if entry.get("raised_exception"):
            return str(entry.get("exception_message"))
    return None


def _rule_summary(index: int, rule: Rule, res: Any) -> dict[str, Any]:
    from great_expectations.util import convert_to_json_serializable

    result = res.result
    kwargs = convert_to_json_serializable(dict(res.expectation_config.kwargs))
    kwargs.pop("batch_id", None)
    return {
        "rule": index,
        "code": rule.code,
        "severity": rule.severity,
        "reason": rule.reason,
        "expectation": rule.expectation,
        "kwargs": kwargs,
        "success": bool(res.success),
        "element_count": int(result.get("element_count") or 0),
        "unexpected_count": int(result.get("unexpected_count") or 0),
        "missing_count": int(result.get("missing_count") or 0),
        "partial_unexpected_list": convert_to_json_serializable(result.get("partial_unexpected_list") or []),
        "partial_unexpected_index_list": [int(i) for i in result.get("partial_unexpected_index_list") or []],
    }


_local = threading.local()


def _gx_objects(spec: Suite) -> tuple[Any, Any]:
    """(batch definition, GE suite) for ``spec``, built once per thread: GE contexts are not thread-safe."""
    cache: dict[tuple[str, int], tuple[Any, Any]] = _local.__dict__.setdefault("gx", {})
    key = (spec.name, hash(spec.model_dump_json()))  # an edited user suite is built again
    if key not in cache:
        cache[key] = _build(spec)
    return cache[key]


def _build(spec: Suite) -> tuple[Any, Any]:
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )
    from great_expectations.expectations.registry import get_expectation_impl
    from great_expectations.exceptions import ExpectationNotFoundError

    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(), analytics_enabled=False,
                               progress_bars=ProgressBarsConfig(globally=False))
    context = gx.get_context(mode="ephemeral", project_config=config)
    asset = context.data_sources.add_pandas(f"dq_{spec.name}").add_dataframe_asset("batch")
    batch_definition = asset.add_batch_definition_whole_dataframe("whole_batch")
    suite = gx.ExpectationSuite(name=spec.name)
    for index, rule in enumerate(spec.rules):
        try:
            expectation_class = get_expectation_impl(rule.expectation)
        except ExpectationNotFoundError:
            raise ConfigError(f"suite {spec.name!r}: rule {rule.code} uses unknown expectation "
                              f"{rule.expectation!r}.", hint="Fix: use a Great Expectations 1.x expectation "
                              "type such as 'expect_column_values_to_not_be_null'.") from None
        try:
            expectation = expectation_class(**rule.gx_kwargs, severity=rule.severity, description=rule.reason,
                                            meta={"rule": index, "code": rule.code})
        except Exception as exc:  # GE raises pydantic errors of its own vendored copy
            raise ConfigError(f"suite {spec.name!r}: rule {rule.code} ({rule.expectation}) has bad kwargs "
                              f"{rule.gx_kwargs}: {exc}", hint="Fix: check the expectation's arguments.") from None
        suite.add_expectation(expectation)
    return batch_definition, context.suites.add(suite)


@lru_cache(maxsize=1)
def _gx_version() -> str:
    from importlib.metadata import version

    return version("great_expectations")
