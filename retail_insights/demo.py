"""`make demo`: the whole chain on embedded defaults (local files, DuckDB, no servers).

generate -> ingest (retail_sales and the real Superstore file) -> views -> ask example questions,
then how to open the web app over what was built.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
import time

from rich.console import Console

from retail_insights.ingest_report import ingest_text
from retail_insights.settings import get_settings

RETAIL_QUESTIONS = (
    "What was revenue last month?",
    "Revenue by region last quarter",
    "Top 5 states by profit this year",
    "Compare online vs store orders last month",
    "Monthly revenue trend for the West Coast this year",
    "What is the cancellation rate by channel in the last 3 months?",
)
SUPERSTORE_QUESTIONS = (
    "Total sales in 2017",
    "Profit by region in 2016",
    "Top 5 sub-categories by sales in 2017",
    "Average days to ship by ship mode",
)


def run(*, rows: int = 200_000, seed: int = 7) -> None:
    """Run every stage that exists and print what each one did."""
    from assistant.cli_support import ask_command
    from retail_insights.generator import generate
    from spark_jobs.ingest import ingest

    console = Console()
    settings = get_settings()
    started = time.perf_counter()
    raw = settings.home.resolve() / "demo" / "raw"
    console.rule(f"1. generate {rows:,} raw orders (seed {seed}) -> {raw}")
    result = generate(rows=rows, seed=seed, out=raw)
    console.print(f"{result.rows:,} rows, {result.dirty_rows:,} with planted problems")

    console.rule("2. ingest retail_sales (Great Expectations checks, quarantine, Delta merge, views)")
    console.print(ingest_text(ingest(result.files, dataset="retail_sales").to_json()))

    console.rule("3. ingest superstore (the real Tableau sample)")
    superstore = ingest([settings.superstore_dir / "superstore_2014_2017.csv"], dataset="superstore")
    console.print(ingest_text(superstore.to_json()))

    as_of = datetime.now(timezone.utc).date()
    for dataset, questions, when in (("retail_sales", RETAIL_QUESTIONS, as_of),
                                     ("superstore", SUPERSTORE_QUESTIONS, date(2017, 12, 31))):
        console.rule(f"4. ask {dataset} (as of {when})")
        for question in questions:
            text, _ = ask_command(question, dataset=dataset, as_of=when, as_json=False)
            console.print(f"[bold]Q:[/bold] {question}\n{text}\n")
    console.rule(f"demo finished in {time.perf_counter() - started:.1f}s; state under {settings.home}")
    console.print(web_app_hint(settings.home.resolve()), soft_wrap=True)


def web_app_hint(home: Path, *, host: str = "127.0.0.1", port: int = 8000) -> str:
    """How to serve the web app (Ask, Data health, SQL pages) over ``home``, and its address."""
    return (f"Web app: serve it with `RETAIL_HOME={home} .venv/bin/retail-insights serve --host {host} --port {port}`,\n"
            f"then open http://{host}:{port}/ (Ask), http://{host}:{port}/data (Data health), "
            f"http://{host}:{port}/sql (SQL).")
