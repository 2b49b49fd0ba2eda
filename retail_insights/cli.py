"""The ``retail-insights`` command line.

Every subcommand imports its implementation inside the function, so ``--help`` and ``generate`` stay
light (no pyspark, airflow, torch or google-cloud). Machine output with ``--json`` is one JSON object on
the last line of stdout. Errors are one line naming the value and the fix; exit code 2 for bad usage,
1 for failures; ``--debug`` shows the traceback.
"""

from __future__ import annotations

from datetime import date
import json
from pathlib import Path
import sys
from typing import Annotated, Any, Optional

import typer

from retail_insights.errors import RetailError, UsageError
from retail_insights.ingest_report import ingest_text

app = typer.Typer(
    name="retail-insights",
    help="Retail analytics: Delta Lake pipeline, DuckDB/BigQuery warehouse and a question assistant.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
views_app = typer.Typer(help="Materialized views (hourly, daily, monthly, yearly aggregates).", no_args_is_help=True)
stream_app = typer.Typer(help="Kafka point-of-sale events: produce and consume.", no_args_is_help=True)
dq_app = typer.Typer(help="Data-quality results.", no_args_is_help=True)
report_app = typer.Typer(help="Operational reports from the query log.", no_args_is_help=True)
dataset_app = typer.Typer(help="Your own datasets: draft one from files, check it against its data.",
                          no_args_is_help=True)
app.add_typer(views_app, name="views")
app.add_typer(stream_app, name="stream")
app.add_typer(dq_app, name="dq")
app.add_typer(report_app, name="report")
app.add_typer(dataset_app, name="dataset")

_state: dict[str, bool] = {"debug": False}

DatasetOpt = Annotated[Optional[str], typer.Option("--dataset", "-d", help="retail_sales, superstore, tpcds_store "
                                                  "or one of yours (RETAIL_HOME/datasets)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object on the last line")]


def _dataset(name: str | None) -> str:
    from retail_insights.settings import get_settings
    from warehouse.spec import load_dataset

    chosen = name or get_settings().default_dataset
    load_dataset(chosen)  # fails with "Did you mean ..." for an unknown name
    return chosen


def emit(payload: dict[str, Any], *, as_json: bool, text: str | None = None) -> None:
    """Print a human line (unless --json) and, with --json, the payload as the last stdout line."""
    if as_json:
        print(json.dumps(payload, default=str, sort_keys=True))
    else:
        print(text if text is not None else json.dumps(payload, indent=2, default=str))


@app.callback()
def _main(debug: Annotated[bool, typer.Option("--debug", help="show tracebacks")] = False) -> None:
    _state["debug"] = debug


@app.command()
def generate(
    rows: Annotated[int, typer.Option(help="number of raw rows")] = 100_000,
    seed: Annotated[int, typer.Option(help="random seed; same seed, same bytes")] = 42,
    out: Annotated[Path, typer.Option(help="output folder")] = Path("data/raw"),
    fmt: Annotated[str, typer.Option("--format", help="csv, jsonl or parquet")] = "csv",
    start: Annotated[Optional[str], typer.Option(help="first order date, YYYY-MM-DD")] = None,
    end: Annotated[Optional[str], typer.Option(help="last order date, YYYY-MM-DD")] = None,
    dirty_rate: Annotated[float, typer.Option(help="share of rows with problems (0 = clean)")] = 0.02,
    as_json: JsonOpt = False,
) -> None:
    """Write a synthetic raw order feed (SPEC 1.1) with realistic shape and optional dirt."""
    from retail_insights.generator import generate as run

    result = run(rows=rows, seed=seed, out=out, fmt=fmt, start=_date(start, "--start"), end=_date(end, "--end"),
                 dirty_rate=dirty_rate, progress=not as_json)
    payload = {"rows": result.rows, "dirty_rows": result.dirty_rows, "bytes": result.bytes,
               "files": [str(f) for f in result.files], "seconds": round(result.seconds, 3)}
    emit(payload, as_json=as_json, text=f"wrote {result.rows:,} rows to {out} ({len(result.files)} files)")


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="files or folders (CSV, JSON Lines, Parquet)")],
    dataset: DatasetOpt = None,
    engine: Annotated[str, typer.Option(help="dask (default) or spark")] = "dask",
    spark_master: Annotated[Optional[str], typer.Option(help="spark://host:port; default local[2]")] = None,
    dask_scheduler: Annotated[Optional[str], typer.Option(
        help="tcp://host:port of an existing Dask cluster to run on; default: RETAIL_PIPELINE__DASK_SCHEDULER, "
             "else in-process (small batches) or a local cluster")] = None,
    workers: Annotated[Optional[int], typer.Option(help="Dask workers")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate, clean, dedupe and merge raw files into the Delta tables, then refresh views."""
    if engine not in ("dask", "spark"):
        raise UsageError(f"unknown engine {engine!r}.", hint="Use --engine dask or --engine spark.")
    chosen = _dataset(dataset)
    from spark_jobs.ingest import ingest as run

    summary = run(paths, dataset=chosen, engine=engine, spark_master=spark_master,  # type: ignore[arg-type]
                  dask_scheduler=dask_scheduler, workers=workers, progress=not as_json)
    payload = summary.to_json()
    emit(payload, as_json=as_json, text=ingest_text(payload))


@views_app.command("refresh")
def views_refresh(
    dataset: DatasetOpt = None,
    full: Annotated[bool, typer.Option("--full", help="recompute every partition")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Recompute the partitions of the views that changed since their last refresh."""
    from warehouse.views import refresh

    result = refresh(_dataset(dataset), full=full)
    payload = result.to_json() if hasattr(result, "to_json") else dict(result.__dict__)
    emit(payload, as_json=as_json)


@views_app.command("status")
def views_status(dataset: DatasetOpt = None, as_json: JsonOpt = False) -> None:
    """Each view with the source version it reflects and whether it is stale."""
    from warehouse.views import view_status

    rows = [dict(s.__dict__) for s in view_status(_dataset(dataset))]
    emit({"views": rows}, as_json=as_json, text="\n".join(
        f"{r['name']:<20} source v{r['source_version']}  {'STALE' if r['stale'] else 'fresh'}" for r in rows))


@app.command()
def sql(
    query: Annotated[Optional[str], typer.Argument(help="a read-only SQL query; none opens a shell")] = None,
    dataset: DatasetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run read-only SQL on DuckDB over sales, quarantine, the views and the superstore tables."""
    from retail_insights.sqlshell import run_query, shell

    if query is None:
        shell(dataset=_dataset(dataset))
        return
    result = run_query(query, dataset=_dataset(dataset))
    emit({"columns": result.columns, "rows": result.rows}, as_json=as_json, text=result.pretty())


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="a question in plain English")],
    dataset: DatasetOpt = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="resolve relative dates against YYYY-MM-DD")] = None,
    conversation: Annotated[Optional[str], typer.Option(
        "--conversation", "-c", help="the conversation id of an earlier answer: ask a follow-up")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Answer a question about the data, with the SQL, the interpretation and a chart."""
    chosen, when = _dataset(dataset), _date(as_of, "--as-of")
    from assistant.cli_support import ask_command

    text, code = ask_command(question, dataset=chosen, as_of=when, as_json=as_json, conversation=conversation)
    print(text)
    raise typer.Exit(code)


@app.command()
def chat(
    dataset: DatasetOpt = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="resolve relative dates against YYYY-MM-DD")] = None,
) -> None:
    """Ask questions in a loop; follow-ups build on the last answer (history with the arrow keys, Ctrl-D exits)."""
    chosen, when = _dataset(dataset), _date(as_of, "--as-of")
    from assistant.cli_support import chat_loop
    from retail_insights.settings import get_settings

    try:
        import readline   # line editing and history for input()

        history = get_settings().home / "chat_history"
        history.parent.mkdir(parents=True, exist_ok=True)
        if history.exists():
            readline.read_history_file(history)
    except (ImportError, OSError):
        history = None
    try:
        code = chat_loop(dataset=chosen, as_of=when)
    finally:
        if history is not None:
            readline.write_history_file(history)
    raise typer.Exit(code)


@app.command("eval")
def eval_(
    dataset: DatasetOpt = None,
    golden: Annotated[Optional[Path], typer.Option(help="golden set file (default: the shipped one)")] = None,
) -> None:
    """Run a golden set of questions and print accuracy per category, tier mix and latency."""
    from assistant.cli_support import eval_command

    text, code = eval_command(dataset=_dataset(dataset), golden=golden)
    print(text)
    raise typer.Exit(code)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[Optional[int], typer.Option(help="uvicorn worker processes (default: one per core)")] = None,
) -> None:
    """Serve the HTTP API (ask, sql, feedback, tasks, datasets, health, ready, metrics)."""
    import os

    from assistant.http.server import run

    # monitoring.serving: the API, whose /metrics also exports data health, the LLM budget and Redis.
    run(host=host, port=port, workers=workers if workers is not None else os.cpu_count() or 1,
        factory="monitoring.serving:create_app")


@stream_app.command("produce")
def stream_produce(
    bootstrap: Annotated[str, typer.Option(help="HOST:PORT of the Kafka broker")],
    topic: Annotated[str, typer.Option(help="topic")],
    count: Annotated[int, typer.Option(help="number of events")] = 1000,
    seed: Annotated[int, typer.Option(help="random seed")] = 42,
    rate: Annotated[Optional[float], typer.Option(help="events per second (default: as fast as possible)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Publish point-of-sale events (SPEC 1.1 as JSON, keyed by order_id)."""
    from streaming.producer import produce

    emit(produce(bootstrap=bootstrap, topic=topic, count=count, seed=seed, rate=rate).to_json(), as_json=as_json)


@stream_app.command("consume")
def stream_consume(
    bootstrap: Annotated[str, typer.Option(help="HOST:PORT of the Kafka broker")],
    topic: Annotated[str, typer.Option(help="topic")],
    group: Annotated[str, typer.Option(help="consumer group")] = "retail-ingest",
    max_batch_seconds: Annotated[float, typer.Option(help="micro-batch length")] = 2.0,
    max_batch_events: Annotated[int, typer.Option(help="micro-batch size cap")] = 50_000,
    idle_exit: Annotated[Optional[float], typer.Option(help="stop after this many idle seconds")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Merge events into the sales table exactly once; invalid events go to TOPIC.dlq."""
    from streaming.consumer import consume

    stats = consume(bootstrap=bootstrap, topic=topic, group=group, max_batch_seconds=max_batch_seconds,
                    max_batch_events=max_batch_events, idle_exit=idle_exit)
    emit(stats.to_json(), as_json=as_json)


@dq_app.command("report")
def dq_report(dataset: DatasetOpt = None, last: int = 10, as_json: JsonOpt = False) -> None:
    """Summarize the validation results of recent batches."""
    from dq.report import summarize

    batches = summarize(_dataset(dataset), last=last)
    emit({"batches": batches}, as_json=as_json, text="\n".join(
        f"{b['batch_id']}  input {b['input_rows']:,}  quarantined {b['quarantined_rows']:,}  "
        f"warnings {b['warning_rows']:,}  {b.get('quarantined_by_code', {})}" for b in batches) or "no batches yet")


@report_app.command("cost")
def report_cost(
    since: Annotated[Optional[str], typer.Option(help="only questions since an age (24h, 7d) or ISO date/time")] = None,
    project: Annotated[Optional[float], typer.Option(
        "--project", help="project the monthly cost at this many questions per day, with tipping points")] = None,
    llm_model: Annotated[Optional[str], typer.Option(
        "--llm-model", help="price the naive one-LLM-call-per-question baseline with this litellm model")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Questions, tiers, cache hit rate, LLM calls and cost, bytes read and their BigQuery price, savings."""
    from monitoring.cost_command import run

    payload, text = run(since=since, qpd=project, llm_model=llm_model)
    emit(payload, as_json=as_json, text=text)


@dataset_app.command("init")
def dataset_init(
    name: Annotated[str, typer.Argument(help="the new dataset's name (lower case, underscores)")],
    sources: Annotated[list[Path], typer.Option("--from", help="a CSV or Parquet file to profile; repeat for "
                                                "each table of a star schema")],
    force: Annotated[bool, typer.Option("--force", help="replace draft files that exist")] = False,
) -> None:
    """Profile files with DuckDB and write draft dataset.yaml, semantic.yaml and suites to review."""
    from retail_insights.onboarding.scaffold import init_dataset

    init_dataset(name, sources, force=force, say=lambda line: print(line, flush=True))


@dataset_app.command("check")
def dataset_check(
    name: Annotated[str, typer.Argument(help="the dataset to check")],
    data: Annotated[Optional[list[Path]], typer.Option("--data", help="files to check it against (repeat); "
                                                       "default: the files last ingested")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check a dataset's YAML and its data: each problem on one line with where it is and the fix."""
    from retail_insights.onboarding.checker import check_dataset

    report = check_dataset(name, data=data or None)
    emit(report.to_json(), as_json=as_json, text=report.text())
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def demo(
    rows: Annotated[int, typer.Option(help="rows to generate")] = 200_000,
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
) -> None:
    """Run the whole chain on embedded defaults: generate -> ingest -> views -> ask."""
    from retail_insights.demo import run

    run(rows=rows, seed=seed)


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a date.", hint="Use YYYY-MM-DD, e.g. 2025-03-31.") from None


def main() -> None:
    """Entry point: run the app, turning project errors into one line and an exit code."""
    try:
        code = app(standalone_mode=False)  # a command's `raise typer.Exit(n)` comes back as n here
    except RetailError as exc:
        if _state["debug"]:
            raise
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # usage errors of the option parser, then unexpected failures
        if hasattr(exc, "show") and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            sys.exit(exc.exit_code)
        if _state["debug"]:
            raise
        print(f"error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", file=sys.stderr)
        sys.exit(1)
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
