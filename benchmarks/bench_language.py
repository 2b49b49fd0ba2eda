"""The language corpus through the rules tier: correct / wrong / clarify per kind, split and shape.

    python benchmarks/bench_language.py [--shapes] [--home DIR]

Builds the test warehouse (retail_sales from the seeded generator, Superstore from the real CSV) in a
temporary RETAIL_HOME unless --home points at one, then asks every question of
``assistant/golden/language/`` with the rules tier alone (no cache, no semantic tier, no LLM) and
scores it against its truth SQL (``assistant.corpus``). The held-out split is reported apart: its
questions were written by people who never saw the rules, and were never used to write them.
Prints the tables docs/benchmarks.md keeps, and the rules tier's own latency (route + compile + run).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="a RETAIL_HOME that already holds the test warehouse")
    parser.add_argument("--shapes", action="store_true", help="also print every shape's counts")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="bench-language-"))
    os.environ["RETAIL_HOME"] = str(home)
    from retail_insights.settings import get_settings

    get_settings.cache_clear()
    if args.home is None:
        from tests.assistant.warehouse_builder import build

        print(f"building the test warehouse in {home} ...", flush=True)
        build(home)
    from assistant.corpus import evaluate
    from assistant.execute import CatalogRunner
    from tests.assistant.warehouse_builder import local_assistant

    runner = CatalogRunner(version_of=lambda: "bench")
    assistant = local_assistant(runner)
    latencies: list[float] = []
    rows = []
    for kind in ("paraphrase", "traps", "followups"):
        for split in ("dev", "heldout"):
            started = time.perf_counter()
            tally = evaluate(assistant, lambda dataset: runner, kind, split,
                             on_scored=lambda s: latencies.append(s.answer.latency_ms))
            rows.append((kind, split, tally, time.perf_counter() - started))
    print(f"\n{'corpus':<11} {'split':<8} {'questions':>9} {'correct':>8} {'wrong':>6} {'clarify':>8}")
    for kind, split, tally, _ in rows:
        print(f"{kind:<11} {split:<8} {tally.total:>9} {tally.rate('correct'):>8.1%} {tally.counts['wrong']:>6} "
              f"{tally.rate('clarify'):>8.1%}")
    print("\nright = a correct answer, or the clarification a question without a right answer expects:")
    for kind, split, tally, _ in rows:
        asked, did = tally.no_answer, tally.clarified_as_expected
        right = tally.counts["correct"] + did
        print(f"  {kind:<11} {split:<8} right {right}/{tally.total} ({right / max(1, tally.total):.1%}), "
              f"wrong {tally.counts['wrong']}, clarified though answerable {tally.counts['clarify'] - did} "
              f"(expected clarifications {did}/{asked})")
    print(f"\nrules tier per question (route, compile, run on the test warehouse): p50 "
          f"{statistics.median(latencies):.1f} ms, p95 {_percentile(latencies, 95):.1f} ms, "
          f"max {max(latencies):.1f} ms over {len(latencies)} questions")
    if args.shapes:
        for kind, split, tally, _ in rows:
            if kind != "paraphrase":
                continue
            print(f"\n{kind} {split}: shape, correct / wrong / clarify")
            for shape, counts in sorted(tally.groups.items()):
                print(f"  {shape:<28} {counts['correct']:>3} / {counts['wrong']} / {counts['clarify']}")
    runner.close()


if __name__ == "__main__":
    main()
