"""Replay 10k questions through the assistant's fast tiers: rules, exact cache, semantic match.

Prints, never asserts. Run: ``.venv/bin/python benchmarks/bench_assistant.py [--questions 10000]``
(tiers mode), or add ``--pipeline`` to send every question through ``assistant.pipeline.Assistant``
and the shipped DuckDB backend over a real warehouse (built in a temp dir with
tests/assistant/warehouse_builder.py; ``--rows N`` puts N random orders in retail_sales, ``--home``
reuses a warehouse built before).

Traffic: Zipf over ~50 question templates (totals, breakdowns, top/bottom N, trends, shares,
period and value comparisons, growth, distributions), each with several paraphrases, some with
words the rules do not know ("kindly tally up ...") so they reach the semantic tier, and
Zipf-weighted slot values (metric, state, category, channel, segment, month, quarter, year, N,
dimension, grain). Relative periods ("last month") rank first, as on a dashboard. The true intent
of a question is the router's parse of its template's canonical phrasing with the same values.

Tiers mode follows the pipeline's order: router.parse -> complete intent: exact cache by its key;
else the semantic tier re-binds a verified neighbour; else the slow path (the true intent,
standing in for the LLM tier, remembered as unverified) -> cache -> execute -> put + remember.
Two workers with their own L1 and index handle alternate questions and share Redis and the index
file, like two API processes. Execution is a stand-in (a deterministic answer derived from the
data version and the intent): what is measured is whether a tier serves the right answer.

A false hit is an answer served by a cache or the semantic tier that differs from the answer the
same question gets with every cache and the semantic tier off (rules, else the slow path; in
pipeline mode: the same columns and rows from an Assistant without cache and semantic tier).
``--bump-at N`` (tiers mode) publishes a new data version at question N: a stale answer after it
would be a false hit.

A second pass ("semantic stress") sends every question to the semantic tier first, rules or not,
and checks each re-bound intent against the true intent.
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
import hashlib
import os
from pathlib import Path
import sys
import tempfile
import time
from typing import Any

import numpy as np

from assistant.cache import ExactCache
from assistant.embeddings import Embedder, get_embedder
from assistant.intent import Intent
from assistant.router import Router
from assistant.semantic import SemanticMatcher
from assistant.vector_index.local import LocalIndex

DATASET = "retail_sales"
AS_OF = date(2024, 7, 1)  # the day after the test warehouse's last order (2024-06-30)
PROJECT_ROOT = Path(__file__).resolve().parents[1]

METRICS = (("revenue", ("revenue", "sales")), ("orders", ("orders", "number of orders")),
           ("profit", ("profit",)), ("units", ("units", "items sold")),
           ("aov", ("average order value",)), ("customers", ("unique customers",)))
STATES = ("Texas", "California", "New York", "Florida", "Ohio", "Illinois", "Georgia", "Arizona",
          "Michigan", "Colorado", "Oregon", "Nevada")
CATEGORIES = ("Electronics", "Clothing", "Home", "Grocery", "Sports", "Beauty", "Toys", "Books")
CHANNELS = ("Online", "Store", "Marketplace")
SEGMENTS = ("Consumer", "Corporate", "Home Office")
ABS_MONTHS = tuple(f"{name} {year}" for year, names in (
    (2024, ("June", "May", "April", "March", "February", "January")),
    (2023, ("December", "November", "October", "September", "August", "July", "June", "May", "April",
            "March", "February", "January"))) for name in names)
ABS_QUARTERS = ("Q2 2024", "Q1 2024", "Q4 2023", "Q3 2023", "Q2 2023", "Q1 2023")
ABS_YEARS = ("2024", "2023")
# Relative periods first: a dashboard mostly asks about "last month" (as_of 2024-07-01, the same
# window as "June 2024": one intent, one cache key).
MONTHS = ("last month", "this month") + tuple(f"in {m}" for m in ABS_MONTHS)
QUARTERS = ("last quarter", "this quarter") + tuple(f"in {q}" for q in ABS_QUARTERS)
YEARS = ("last year", "this year") + tuple(f"in {y}" for y in ABS_YEARS)
NUMBERS = ("5", "3", "10")
DIMS = (("category", "categories"), ("state", "states"), ("channel", "channels"),
        ("segment", "segments"), ("region", "regions"))
GRAINS = (("monthly", "by month"), ("weekly", "by week"), ("quarterly", "by quarter"))

WHERE = {"none": ("",), "state": (" in {state}",), "category": (" in {category}",),
         "channel": (" through {channel}",), "segment": (" for {segment}",)}
WHEN = {"month": "{month}", "quarter": "{quarter}", "year": "{year}"}

# Operation -> (canonical phrasing that defines the true intent, paraphrases). "{where}" and
# "{when}" are filled per template; the "kindly"/"pls" phrasings use words the rules reject.
SHAPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "total": ("{metric}{where} {when}", (
        "What were {metric}{where} {when}?", "show me {metric}{where} {when}",
        "kindly tally up {metric}{where} {when}", "pls pull the {metric} figures{where} {when}")),
    "breakdown": ("{metric} by {dim}{where} {when}", (
        "break down {metric} per {dim}{where} {when}", "{metric} for each {dim}{where} {when}",
        "kindly tabulate {metric} by {dim}{where} {when}")),
    "top": ("top {n} {dims} by {metric}{where} {when}", (
        "best {n} {dims} by {metric}{where} {when}", "kindly rank the top {n} {dims} by {metric}{where} {when}")),
    "bottom": ("bottom {n} {dims} by {metric}{where} {when}", (
        "{n} lowest {dims} by {metric}{where} {when}", "kindly rank the bottom {n} {dims} by {metric}{where} {when}")),
    "trend": ("{grain} {metric} trend{where} {when}", (
        "how did {metric} evolve {grain_by}{where} {when}", "kindly chart {grain} {metric}{where} {when}")),
    "share": ("share of {metric} by {dim}{where} {when}", (
        "what share of {metric} came from each {dim}{where} {when}",
        "kindly work out the share of {metric} by {dim}{where} {when}")),
    "growth": ("{metric} growth{where} {when}", (
        "how much did {metric} grow{where} {when}", "how has {metric} grown{where} {when}")),
    "compare_periods": ("compare {metric}{where} in {period} vs {period2}", (
        "{metric}{where} in {period} versus {period2}", "kindly contrast {metric}{where} in {period} against {period2}")),
    "compare_values": ("compare {metric} in {value} vs {value2} {when}", (
        "{metric} {value} versus {value2} {when}", "kindly contrast {metric} for {value} against {value2} {when}")),
    "distribution": ("distribution of order values{where} {when}", (
        "histogram of order values{where} {when}", "kindly bucket the order values{where} {when}")),
}


@dataclass(frozen=True)
class Template:
    name: str
    canonical: str
    paraphrases: tuple[str, ...]


def templates() -> list[Template]:
    """~50 templates, most common first (Zipf rank = list order)."""
    out = []
    def add(shape: str, where: str, when: str) -> None:
        canonical, paraphrases = SHAPES[shape]
        fill = {"where": WHERE[where][0], "when": WHEN.get(when, "")}
        out.append(Template(f"{shape}/{where}/{when}", canonical.format_map(_Keep(fill)),
                            tuple(p.format_map(_Keep(fill)) for p in paraphrases)))
    for when in ("month", "quarter", "year"):
        for where in ("state", "none", "category", "channel", "segment"):
            add("total", where, when)
        add("breakdown", "none", when)
        add("top", "none", when)
        add("trend", "none", "year") if when == "year" else add("growth", "none", when)
    for shape, where, when in (
            ("breakdown", "state", "year"), ("breakdown", "category", "quarter"), ("top", "state", "year"),
            ("bottom", "none", "year"), ("bottom", "none", "quarter"), ("bottom", "category", "year"),
            ("share", "none", "year"), ("share", "none", "quarter"), ("share", "state", "year"),
            ("growth", "state", "year"), ("growth", "category", "quarter"), ("growth", "state", "month"),
            ("trend", "state", "year"), ("trend", "category", "year"), ("top", "category", "quarter"),
            ("compare_periods", "none", "month"), ("compare_periods", "none", "quarter"),
            ("compare_periods", "state", "year"), ("compare_values", "state", "year"),
            ("compare_values", "category", "quarter"), ("compare_values", "channel", "year"),
            ("distribution", "none", "year"), ("distribution", "state", "quarter")):
        add(shape, where, when)
    return out


class _Keep(dict):
    """format_map that leaves unknown placeholders for the second fill."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def zipf(rng: np.random.Generator, n: int, s: float) -> int:
    weights = 1.0 / np.arange(1, n + 1) ** s
    return int(rng.choice(n, p=weights / weights.sum()))


def sample_values(rng: np.random.Generator, template: Template, *, s: float) -> dict[str, str]:
    """Slot values for one question, each Zipf(s) over its pool (rank = pool order)."""
    def pick(pool: tuple) -> object:
        return pool[zipf(rng, len(pool), s)]
    metric = pick(METRICS)
    dim, dims = pick(DIMS)
    grain, grain_by = pick(GRAINS)
    kind = template.name.split("/")[1]
    pool = {"state": STATES, "category": CATEGORIES, "channel": CHANNELS}.get(kind, STATES)
    first = zipf(rng, len(pool), s)
    second = (first + 1 + zipf(rng, len(pool) - 1, s)) % len(pool)
    period_pool = {"month": ABS_MONTHS, "quarter": ABS_QUARTERS, "year": ABS_YEARS}[template.name.split("/")[2]]
    p1 = zipf(rng, len(period_pool) - 1, s) + 1
    return {
        "metric": metric[1][0], "metric_words": metric[1][int(rng.integers(len(metric[1])))],
        "state": pick(STATES), "category": pick(CATEGORIES), "channel": pick(CHANNELS),
        "segment": pick(SEGMENTS), "month": pick(MONTHS), "quarter": pick(QUARTERS), "year": pick(YEARS),
        "n": pick(NUMBERS), "dim": dim if dim != kind else "channel", "dims": dims if dim != kind else "channels",
        "grain": grain, "grain_by": grain_by, "value": pool[first], "value2": pool[second],
        "period": period_pool[p1], "period2": period_pool[p1 - 1],
    }


@dataclass(frozen=True)
class Question:
    text: str
    canonical: str      # the template's canonical phrasing with the same values
    truth: Intent
    template: str


def generate(n: int, *, seed: int, router: Router, template_s: float = 1.1,
             slot_s: float = 2.0) -> tuple[list[Question], list[str]]:
    """``n`` questions with their true intents (the router's parse of the canonical phrasing)."""
    rng = np.random.default_rng(seed)
    usable, dropped = [], []
    for t in templates():  # keep only templates whose canonical phrasing the rules understand
        values = sample_values(np.random.default_rng(0), t, s=slot_s)
        ok = router.parse(t.canonical.format(**values), dataset=DATASET, as_of=AS_OF).complete
        (usable if ok else dropped).append(t)
    out: list[Question] = []
    while len(out) < n:
        t = usable[zipf(rng, len(usable), template_s)]
        values = sample_values(rng, t, s=slot_s)
        canonical = t.canonical.format(**values)
        route = router.parse(canonical, dataset=DATASET, as_of=AS_OF)
        if not route.complete:
            continue
        phrasing = ([t.canonical] + list(t.paraphrases))[zipf(rng, len(t.paraphrases) + 1, 0.8)]
        text = phrasing.format(**{**values, "metric": values["metric_words"]})
        out.append(Question(text, canonical, route.intent, t.name))
    return out, [t.name for t in dropped]


class Timings(defaultdict):
    def __init__(self) -> None:
        super().__init__(list)

    def add(self, name: str, seconds: float) -> None:
        self[name].append(seconds)

    def row(self, name: str) -> str:
        ms = np.array(self[name]) * 1000
        return (f"  {name:<30} {len(ms):>6} {np.percentile(ms, 50):>9.3f} {np.percentile(ms, 95):>9.3f}"
                f" {ms.max():>9.3f}")


def timed(timings: Timings, name: str, call: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = call()
    timings.add(name, time.perf_counter() - start)
    return result


@dataclass
class Result:
    counts: Counter
    timings: Timings
    examples: list[str]
    elapsed_s: float = 0.0
    index_entries: int = 0
    notes: tuple[str, ...] = ()

    def false_hit(self, text: str) -> None:
        self.counts["false hits"] += 1
        if len(self.examples) < 5:
            self.examples.append(text)


# --- tiers mode ------------------------------------------------------------------------------------


def execute(intent: Intent, version: int) -> dict[str, object]:
    """Stand-in for SQL: a deterministic answer for (data version, intent)."""
    key = intent.canonical_key()
    value = int(hashlib.sha256(f"{version}:{key}".encode()).hexdigest()[:10], 16) / 100
    return {"value": value, "data_version": version, "intent": key}


@dataclass
class Worker:
    """One API process: its own L1 and index handle; Redis and the index file are shared."""

    cache: ExactCache
    matcher: SemanticMatcher


def replay_tiers(questions: list[Question], workers: list[Worker], router: Router, *,
                 bump_at: int | None) -> Result:
    result = Result(Counter(), Timings(), [])
    counts, timings = result.counts, result.timings
    version = 1
    for i, q in enumerate(questions):
        version += int(bump_at is not None and i == bump_at)
        worker = workers[i % len(workers)]
        started = time.perf_counter()
        route = timed(timings, "rules (router.parse)", lambda: router.parse(q.text, dataset=DATASET, as_of=AS_OF))
        source, verified, intent = "rules", True, route.intent
        if intent is None:
            found = timed(timings, "semantic match", lambda: worker.matcher.match(
                route.question, route.slots, dataset=DATASET))
            if found is not None:
                intent, source = found.intent, "semantic"
            else:
                intent, source, verified = q.truth, "slow path", False
        key = f"{DATASET}:{version}:{intent.canonical_key()}"
        hit = timed(timings, "cache get", lambda: worker.cache.get(key))
        tier = hit.tier if hit is not None else "cache_miss"
        timings[f"{tier} get"].append(timings["cache get"][-1])
        if hit is not None:
            answer = hit.answer
        else:
            answer = execute(intent, version)
            worker.cache.put(key, answer)
            timed(timings, "semantic remember", lambda: worker.matcher.remember(
                route.question, route.slots, intent, dataset=DATASET, verified=verified))
        timings.add(f"question ({tier}, {source})", time.perf_counter() - started)
        counts["questions"] += 1
        counts[f"source {source}"] += 1
        counts[f"tier {tier}"] += 1
        # The same question with every cache and the semantic tier off: rules, else the slow path.
        if (hit is not None or source == "semantic") and answer != execute(route.intent or q.truth, version):
            result.false_hit(f"{q.text!r} ({source}/{tier}): served {answer['intent']}")
    del timings["cache get"]
    return result


def run_tiers(questions: list[Question], router: Router, embedder: Embedder, args: argparse.Namespace,
              tmp: Path) -> tuple[Result, list[Worker]]:
    redis_server, redis_url = None, args.redis_url
    if not args.no_redis and redis_url is None:
        from retail_insights.services import RedisServer, start_on_free_port

        redis_server = start_on_free_port(lambda port: RedisServer(port=port, workdir=tmp / "redis"))
        redis_url = redis_server.url
    try:
        index_path = tmp / "vectors" / f"{DATASET}.npz"
        workers = [Worker(ExactCache(l1_size=4096, ttl_s=3600, redis_url=redis_url),
                          SemanticMatcher(index_for=lambda _d: LocalIndex(index_path), embedder=embedder,
                                          min_similarity=args.min_similarity))
                   for _ in range(2)]
        started = time.perf_counter()
        result = replay_tiers(questions, workers, router, bump_at=args.bump_at)
        result.elapsed_s = time.perf_counter() - started
        result.index_entries = LocalIndex(index_path).count()
        result.notes = (f"2 workers, Redis {'on' if redis_url else 'off'}",
                        f"data version bump at question {args.bump_at}" if args.bump_at else "one data version")
    finally:
        if redis_server is not None:
            redis_server.stop()
    return result, workers


# --- pipeline mode ---------------------------------------------------------------------------------


class TimedCache(ExactCache):
    """ExactCache that records how long each ``get`` took, by the tier that answered."""

    def __init__(self, timings: Timings, **options: Any) -> None:
        super().__init__(**options)
        self.timings = timings

    def get(self, key: str) -> Any:
        started = time.perf_counter()
        hit = super().get(key)
        self.timings.add(f"{hit.tier if hit else 'cache_miss'} get", time.perf_counter() - started)
        return hit


def run_pipeline(questions: list[Question], router: Router, embedder: Embedder, args: argparse.Namespace,
                 tmp: Path) -> tuple[Result, list[Worker]]:
    """Every question through ``Assistant.answer`` over a small real warehouse (L1 only)."""

    sys.path.insert(0, str(PROJECT_ROOT))  # tests/assistant/warehouse_builder.py builds the warehouse
    from assistant.factory import data_version_reader, runner_factory
    from assistant.pipeline import Assistant
    from assistant.values import ValueCatalog
    from benchmarks.bench_http import has_warehouse, write_big_retail
    from retail_insights.settings import get_settings
    from tests.assistant.warehouse_builder import build

    home = args.home or tmp / "home"
    os.environ["RETAIL_HOME"] = str(home)  # the benchmark's own process: not a settings read
    get_settings.cache_clear()
    if not has_warehouse(home):
        build(home)
        if args.rows:
            write_big_retail(args.rows)
    settings = get_settings()
    version = data_version_reader(settings)
    runner_for = runner_factory(settings, version)   # the shipped backend, as the API uses it
    values = ValueCatalog(runner_for)

    def assistant_with(**stages: Any) -> Assistant:
        return Assistant(runner_for=runner_for, data_version=version,
                         vocabulary_for=lambda dataset, v: values.vocabulary(dataset, data_version=v),
                         **stages)

    result = Result(Counter(), Timings(), [])
    cache = TimedCache(result.timings, l1_size=4096, ttl_s=3600)
    matcher = SemanticMatcher(index_for=lambda _d: LocalIndex(tmp / "vectors" / f"{DATASET}.npz"),
                              embedder=embedder, min_similarity=args.min_similarity)
    assistant, uncached = assistant_with(cache=cache, semantic=matcher), assistant_with()
    references: dict[str, Any] = {}
    started = time.perf_counter()
    for q in questions:
        answer = assistant.answer(q.text, dataset=DATASET, as_of=AS_OF)
        tier = answer.tier if answer.status == "answered" else answer.status
        result.timings.add(f"question ({tier})", answer.latency_ms / 1000)
        result.counts["questions"] += 1
        result.counts[f"tier {tier}"] += 1
        if answer.tier not in ("cache_l1", "cache_l2", "semantic"):
            continue
        route = router.parse(q.text, dataset=DATASET, as_of=AS_OF)
        reference_intent = route.intent or q.truth  # without the fast tiers: rules, else the LLM's job
        key = reference_intent.canonical_key()
        if key not in references:
            references[key] = uncached.answer(q.text if route.complete else q.canonical,
                                              dataset=DATASET, as_of=AS_OF)
        ref = references[key]
        if (answer.columns, answer.rows) != (ref.columns, ref.rows):
            result.false_hit(f"{q.text!r} ({answer.tier}): {answer.answer!r} but uncached {ref.answer!r}")
    result.elapsed_s = time.perf_counter() - started
    result.index_entries = LocalIndex(tmp / "vectors" / f"{DATASET}.npz").count()
    result.notes = (f"warehouse {settings.home}",
                    "one Assistant, L1 only (no LLM tier: unparsed questions without a neighbour clarify)",
                    f"{len(references)} reference answers computed without cache and semantic tier")
    return result, [Worker(cache, matcher)]


# --- semantic stress and report ----------------------------------------------------------------------


def semantic_stress(questions: list[Question], matcher: SemanticMatcher, router: Router) -> Result:
    """Every question to the semantic tier first; re-bound intents checked against the truth."""
    result = Result(Counter(), Timings(), [])
    for q in questions:
        route = router.parse(q.text, dataset=DATASET, as_of=AS_OF)
        found = matcher.match(route.question, route.slots, dataset=DATASET)
        result.counts["questions"] += 1
        if found is None:
            result.counts["no match"] += 1
            matcher.remember(route.question, route.slots, q.truth, dataset=DATASET, verified=True)
        elif found.intent.canonical_key() == q.truth.canonical_key():
            result.counts["right intent"] += 1
        else:
            result.counts["wrong intent"] += 1
            result.false_hit(f"{q.text!r} matched {found.neighbour!r} ({found.similarity:.3f}):\n"
                             f"      got   {found.intent.canonical_key()}\n"
                             f"      truth {q.truth.canonical_key()}")
    return result


def report(result: Result, workers: list[Worker], stress: Result | None) -> None:
    counts, n = result.counts, result.counts["questions"]
    hits = counts["tier cache_l1"] + counts["tier cache_l2"]
    print(f"\nReplay: {n} questions in {result.elapsed_s:.1f}s; {'; '.join(result.notes)}; "
          f"{result.index_entries} semantic index entries")
    for key in sorted(k for k in counts if k.startswith(("source", "tier"))):
        print(f"  {key:<32} {counts[key]:>6}  {counts[key] / n:6.1%}")
    print(f"  {'exact-cache hit rate':<32} {hits:>6}  {hits / n:6.1%}   (target >= 80%)")
    print(f"  {'false hits':<32} {counts['false hits']:>6}           (target 0)")
    print(f"\n  {'latency (ms)':<30} {'count':>6} {'p50':>9} {'p95':>9} {'max':>9}")
    for name in sorted(result.timings):
        print(result.timings.row(name))
    l1 = np.array(result.timings.get("cache_l1 get") or [0.0])
    print(f"  L1 hit p95 {np.percentile(l1 * 1000, 95):.4f} ms (target <= 1 ms)")
    for i, w in enumerate(workers):
        c = w.cache
        print(f"  worker {i} counters: L1 {c.l1_hits} hits / {c.l1_misses} misses, "
              f"L2 {c.l2_hits} hits / {c.l2_misses} misses / {c.l2_errors} errors")
    for example in result.examples:
        print("  false hit:", example)
    if stress is not None:
        m = stress.counts["questions"]
        print(f"\nSemantic stress (every question to the semantic tier first): {m} questions")
        for key in ("right intent", "wrong intent", "no match"):
            print(f"  {key:<32} {stress.counts[key]:>6}  {stress.counts[key] / m:6.1%}")
        for example in stress.examples:
            print("  wrong:", example)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--template-s", type=float, default=1.1, help="Zipf exponent over templates")
    parser.add_argument("--slot-s", type=float, default=2.0, help="Zipf exponent over each slot's values")
    parser.add_argument("--pipeline", action="store_true", help="through assistant.pipeline.Assistant")
    parser.add_argument("--bump-at", type=int, default=None, help="tiers mode: new data version at question N")
    parser.add_argument("--redis-url", default=None, help="tiers mode: this Redis (default: start one)")
    parser.add_argument("--no-redis", action="store_true", help="tiers mode: L1 only")
    parser.add_argument("--min-similarity", type=float, default=0.80)
    parser.add_argument("--no-stress", action="store_true", help="skip the semantic stress pass")
    parser.add_argument("--rows", type=int, default=None,
                        help="pipeline mode: retail_sales with this many random orders (default: 12k test orders)")
    parser.add_argument("--home", type=Path, default=None,
                        help="pipeline mode: a RETAIL_HOME that already holds the warehouse (see bench_http.py)")
    args = parser.parse_args()

    router = Router()
    questions, dropped = generate(args.questions, seed=args.seed, router=router,
                                  template_s=args.template_s, slot_s=args.slot_s)
    distinct = len({q.truth.canonical_key() for q in questions})
    print(f"{len(questions)} questions from {len(templates()) - len(dropped)} templates "
          f"({len({q.text for q in questions})} distinct texts, {distinct} distinct intents, so at most "
          f"{1 - distinct / len(questions):.1%} can be cache hits; Zipf s={args.template_s} over "
          f"templates, {args.slot_s} over slot values)")
    if dropped:
        print("  templates the rules do not parse (left out):", ", ".join(dropped))
    embedder = get_embedder()
    embedder.embed(["warm up"])  # the model loads once per process: not a tier latency

    with tempfile.TemporaryDirectory(prefix="bench-assistant-") as tmp:
        run = run_pipeline if args.pipeline else run_tiers
        result, workers = run(questions, router, embedder, args, Path(tmp))
        stress = None if args.no_stress else semantic_stress(
            questions, SemanticMatcher(index_for=lambda _d: LocalIndex(Path(tmp) / "stress.npz"),
                                       embedder=embedder, min_similarity=args.min_similarity), router)
    report(result, workers, stress)


if __name__ == "__main__":
    main()
