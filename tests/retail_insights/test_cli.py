"""The command line: light imports, one-line errors, exit codes, JSON on the last line."""

from __future__ import annotations

from datetime import date
import json
import os
from pathlib import Path
import subprocess
import sys

import pytest

HEAVY = ("pyspark", "airflow", "torch", "google.cloud", "kafka", "sentence_transformers", "litellm")


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "retail_insights.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


@pytest.fixture
def warehouse_home_cli(retail_home: Path, built_warehouse: Path) -> Path:
    """This test's RETAIL_HOME (in the environment) reading the session's warehouse."""
    retail_home.mkdir(parents=True, exist_ok=True)
    os.symlink(built_warehouse / "warehouse", retail_home / "warehouse", target_is_directory=True)
    return retail_home


def _cli_json(*args: str) -> dict:
    done = run_cli(*args)
    assert done.returncode in (0, 3), done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def imported_modules(code: str) -> set[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_help_lists_every_subcommand():
    out = run_cli("--help").stdout
    for command in ("generate", "ingest", "views", "sql", "ask", "serve", "stream", "eval", "demo", "dq"):
        assert command in out


@pytest.mark.parametrize("command", ["generate", "ingest", "views", "sql", "ask", "serve", "stream", "eval",
                                     "demo", "dq"])
def test_each_subcommand_has_help(command):
    result = run_cli(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_help_imports_no_heavy_dependency():
    mods = imported_modules("from retail_insights.cli import app\n"
                            "try:\n    app(['--help'], standalone_mode=False)\nexcept SystemExit:\n    pass")
    assert not [m for m in mods if m.split(".")[0] in {h.split(".")[0] for h in HEAVY} or m.startswith("google.cloud")]


def test_generate_imports_no_heavy_dependency(tmp_path):
    code = ("from retail_insights.cli import app\n"
            f"app(['generate', '--rows', '50', '--out', r'{tmp_path}', '--json'], standalone_mode=False)")
    mods = imported_modules(code)
    assert not [m for m in mods if m.split(".")[0] in ("pyspark", "airflow", "torch", "kafka", "litellm")
                or m.startswith("google.cloud")]


def test_unknown_dataset_is_one_line_with_a_suggestion_and_exit_2(tmp_path):
    result = run_cli("views", "status", "--dataset", "superstor")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: unknown dataset 'superstor'. Did you mean 'superstore'?"


def test_bad_date_names_the_value_and_the_format():
    result = run_cli("ask", "--as-of", "2024-13-01", "revenue last month")
    assert result.returncode == 2
    assert "--as-of '2024-13-01' is not a date. Use YYYY-MM-DD" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_dask_scheduler_without_a_scheme_is_refused_naming_the_form(tmp_path: Path):
    raw = tmp_path / "orders.csv"
    raw.write_text("order_id\n1\n")
    result = run_cli("ingest", str(raw), "--dask-scheduler", "127.0.0.1:8786", env={"RETAIL_HOME": str(tmp_path)})
    assert result.returncode == 2
    assert "'127.0.0.1:8786' is not a Dask scheduler address" in result.stderr
    assert "tcp://host:port" in result.stderr


def test_unknown_option_is_a_usage_error_with_exit_2():
    result = run_cli("generate", "--bogus")
    assert result.returncode == 2
    assert "No such option: --bogus" in result.stderr


def test_generate_json_is_the_last_stdout_line(tmp_path: Path):
    result = run_cli("generate", "--rows", "100", "--seed", "3", "--out", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert payload["rows"] == 100
    assert all(Path(f).exists() for f in payload["files"])


def test_ask_prints_its_conversation_and_a_follow_up_in_a_new_process_builds_on_it(warehouse_home_cli) -> None:
    first = _cli_json("ask", "-d", "superstore", "--as-of", "2018-01-01", "sales by region in 2016", "--json")
    follow = _cli_json("ask", "-d", "superstore", "--as-of", "2018-01-01", "--conversation",
                       first["conversation_id"], "and for 2017?", "--json")
    assert follow["status"] == "answered" and follow["conversation_id"] == first["conversation_id"]
    assert follow["interpretation"]["follow_up"]["changed"] == ["time"] and len(follow["rows"]) == 4


def test_chat_keeps_one_conversation_until_end_of_input(warehouse_home_cli) -> None:
    from assistant.cli_support import chat_loop

    lines = iter(["profit by category in 2016", "what about 2017?", "/new", "and for 2015?"])
    shown: list[str] = []

    def read(prompt: str) -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    assert chat_loop(dataset="superstore", as_of=date(2018, 1, 1), read=read, write=shown.append) == 0
    answers = [s for s in shown if s.startswith(("Profit", "I could not"))]
    assert answers[0].startswith("Profit by category between 2016-01-01")
    assert answers[1].startswith("Profit by category between 2017-01-01")
    assert "(new conversation)" in shown and answers[2].startswith("I could not answer")
