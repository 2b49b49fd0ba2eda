"""Golden-set evaluation: accuracy per category, tier mix, LLM calls and latency percentiles.

A golden set is YAML (or JSON)::

    dataset: superstore
    as_of: 2018-01-01                 # default for every question
    questions:
      - id: ss-001
        question: Total sales in 2017
        category: total
        expect: {rows: [[733215.2552]]}       # or {value: 733215.2552}, {sql: "SELECT ..."},
                                              # or {status: clarify}
        ordered: false                        # compare rows in order (default: true for top_n/trend)

Expected answers never come from the assistant's own compiler: superstore values are computed with
pandas over the CSV when the set is generated; retail_sales questions carry reference SQL written by
hand over the base table, run on the same warehouse as the assistant. Rows compare by value (not
column name), numbers within ``1e-6`` relative or half a cent absolute.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
import json
import math
from pathlib import Path
import statistics
from typing import Any

import yaml

from assistant.answer import Answer, jsonable
from assistant.pipeline import Assistant
from retail_insights.errors import ConfigError

GOLDEN_DIR = Path(__file__).parent / "golden"
ORDERED_BY_DEFAULT = ("top_n", "trend")


@dataclass(frozen=True)
class GoldenQuestion:
    id: str
    question: str
    category: str
    as_of: date
    expect: dict[str, Any]
    ordered: bool


@dataclass(frozen=True)
class Outcome:
    id: str
    question: str
    category: str
    passed: bool
    status: str
    tier: str | None
    latency_ms: float
    llm_calls: int
    reason: str = ""


@dataclass(frozen=True)
class EvalReport:
    dataset: str
    outcomes: tuple[Outcome, ...]
    by_category: dict[str, tuple[int, int]] = field(default_factory=dict)   # category -> (passed, total)
    tiers: dict[str, int] = field(default_factory=dict)
    llm_calls: int = 0
    latency_ms: dict[str, float] = field(default_factory=dict)             # p50 / p95 / p99 / max

    @property
    def total(self) -> int:
        return len(self.outcomes)

    @property
    def passed(self) -> int:
        return sum(o.passed for o in self.outcomes)

    @property
    def accuracy(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.passed]


def default_golden(dataset: str) -> Path:
    return GOLDEN_DIR / f"{dataset}.yaml"


def load_golden(path: Path) -> tuple[str, list[GoldenQuestion]]:
    """The dataset name and questions of a golden file; a malformed file names the entry and the fix."""
    if not path.is_file():
        raise ConfigError(f"golden set {path} does not exist.", hint="Fix: pass an existing YAML or JSON file.")
    text = path.read_text(encoding="utf-8")
    raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(raw, dict) or "questions" not in raw or "dataset" not in raw:
        raise ConfigError(f"{path}: expected keys 'dataset' and 'questions'.", hint="Fix: see assistant/eval.py.")
    default_as_of = raw.get("as_of")
    out = []
    for i, q in enumerate(raw["questions"]):
        missing = [k for k in ("question", "category", "expect") if k not in q]
        as_of = q.get("as_of", default_as_of)
        if missing or as_of is None:
            raise ConfigError(f"{path}: question #{i + 1} lacks {missing or ['as_of']}.",
                              hint="Fix: give question, category, expect and as_of (or a file-level as_of).")
        category = str(q["category"])
        out.append(GoldenQuestion(
            id=str(q.get("id", f"q{i + 1:03d}")), question=str(q["question"]), category=category,
            as_of=as_of if isinstance(as_of, date) else date.fromisoformat(str(as_of)),
            expect=dict(q["expect"]), ordered=bool(q.get("ordered", category in ORDERED_BY_DEFAULT
                                                       or q["expect"].get("ordered", False)))))
    return str(raw["dataset"]), out


def _same(a: Any, b: Any) -> bool:
    a, b = jsonable(a), jsonable(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if math.isnan(float(a)) or math.isnan(float(b)):
            return math.isnan(float(a)) and math.isnan(float(b))
        return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=0.005)
    if a is None or b is None:
        return a is None and b is None
    return str(a) == str(b)


def _sort_key(row: Sequence[Any]) -> tuple[str, ...]:
    return tuple(f"{round(float(v), 4):020.4f}" if isinstance(v, (int, float)) and not isinstance(v, bool)
                 else str(jsonable(v)) for v in row)


def rows_match(actual: Sequence[Sequence[Any]], expected: Sequence[Sequence[Any]], *, ordered: bool) -> str:
    """'' when the tables agree, else why not."""
    if len(actual) != len(expected):
        return f"{len(actual)} rows, expected {len(expected)}"
    if not ordered:
        actual, expected = sorted(actual, key=_sort_key), sorted(expected, key=_sort_key)
    for i, (a, e) in enumerate(zip(actual, expected)):
        if len(a) != len(e):
            return f"row {i}: {len(a)} columns, expected {len(e)}"
        for x, y in zip(a, e):
            if not _same(x, y):
                return f"row {i}: {list(a)} != expected {list(e)}"
    return ""


def _check(answer: Answer, q: GoldenQuestion, assistant: Assistant, dataset: str) -> str:
    expect = q.expect
    wanted_status = expect.get("status", "answered")
    if answer.status != wanted_status:
        return f"status {answer.status}, expected {wanted_status}: {answer.answer}"
    if wanted_status != "answered":
        return ""
    if "value" in expect:
        if len(answer.rows) != 1 or not answer.rows[0]:
            return f"expected one value, got {len(answer.rows)} rows"
        return "" if _same(answer.rows[0][0], expect["value"]) else f"{answer.rows[0][0]} != {expect['value']}"
    if "rows" in expect:
        return rows_match(answer.rows, expect["rows"], ordered=q.ordered)
    if "sql" in expect:
        result = assistant.runner_for(dataset).query(expect["sql"], [])
        expected = [tuple(jsonable(v) for v in r) for r in result.rows]
        return rows_match(answer.rows, expected, ordered=q.ordered)
    return "the golden entry has no expected value"


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def run_golden(assistant: Assistant, path: Path, *, dataset: str | None = None) -> EvalReport:
    """Ask every golden question and compare; the dataset is the file's unless given."""
    file_dataset, questions = load_golden(path)
    dataset = dataset or file_dataset
    outcomes = []
    for q in questions:
        answer = assistant.answer(q.question, dataset=dataset, as_of=q.as_of)
        try:
            reason = _check(answer, q, assistant, dataset)
        except Exception as exc:  # a broken reference query is a failed entry, not a crashed run
            reason = f"checking failed: {type(exc).__name__}: {exc}"
        outcomes.append(Outcome(q.id, q.question, q.category, not reason, answer.status, answer.tier,
                                answer.latency_ms, answer.llm_calls, reason))
    by_category: dict[str, tuple[int, int]] = {}
    for o in outcomes:
        passed, total = by_category.get(o.category, (0, 0))
        by_category[o.category] = (passed + o.passed, total + 1)
    latencies = [o.latency_ms for o in outcomes]
    return EvalReport(
        dataset=dataset, outcomes=tuple(outcomes), by_category=dict(sorted(by_category.items())),
        tiers=dict(Counter(o.tier or o.status for o in outcomes)), llm_calls=sum(o.llm_calls for o in outcomes),
        latency_ms={"p50": _percentile(latencies, 50), "p95": _percentile(latencies, 95),
                    "p99": _percentile(latencies, 99), "max": max(latencies, default=0.0),
                    "mean": statistics.fmean(latencies) if latencies else 0.0})


def format_report(report: EvalReport, *, failures: int = 10) -> str:
    lines = [f"{report.dataset}: {report.passed}/{report.total} correct ({report.accuracy:.1%})"]
    for category, (passed, total) in report.by_category.items():
        lines.append(f"  {category:<14} {passed:>3}/{total:<3} {passed / total:.0%}")
    lines.append("tiers: " + ", ".join(f"{k} {v}" for k, v in sorted(report.tiers.items())))
    lines.append(f"llm calls: {report.llm_calls}")
    lines.append("latency ms: " + ", ".join(f"{k} {v:.1f}" for k, v in report.latency_ms.items()))
    for o in report.failures()[:failures]:
        lines.append(f"  FAIL {o.id} [{o.category}] {o.question!r}: {o.reason}")
    return "\n".join(lines)
