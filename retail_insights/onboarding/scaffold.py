"""``retail-insights dataset init``: profile files, plan a dataset, write its draft YAML files.

The drafts go to the user's dataset folder (``warehouse.dataset_folders``); an existing file is
never replaced without ``force``. What was written and what to check next is said through ``say``
(one line per file profiled while profiling runs).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
import re

import duckdb

from retail_insights.errors import UsageError
from retail_insights.onboarding.draft import dataset_yaml, suite_name, suite_yaml
from retail_insights.onboarding.plan import Plan, make_plan
from retail_insights.onboarding.profile import FileProfile, day_number_offset, profile_files
from retail_insights.onboarding.relationships import find_relationships
from retail_insights.onboarding.semantic_draft import semantic_yaml
from warehouse.dataset_folders import SUITES_FOLDER, new_user_folder

NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class InitResult:
    folder: Path
    written: tuple[Path, ...]
    plan: Plan


def init_dataset(name: str, paths: Sequence[Path], *, force: bool = False,
                 say: Callable[[str], None] = print) -> InitResult:
    if not NAME.match(name):
        raise UsageError(f"dataset name {name!r} is not a lower-case identifier.",
                         hint="Fix: use letters, digits and underscores, starting with a letter (my_sales).")
    if not paths:
        raise UsageError("no files to profile.", hint="Fix: pass --from PATH (CSV or Parquet), once per file.")
    folder = new_user_folder(name)
    drafts_exist = [p for p in (folder / "dataset.yaml", folder / "semantic.yaml") if p.exists()]
    if drafts_exist and not force:
        raise UsageError(f"{drafts_exist[0]} exists: init never overwrites.",
                         hint="Fix: pass --force to replace the drafts, or choose another name.")
    con = duckdb.connect()
    profiles = profile_files([Path(p) for p in paths], con=con, on_file=lambda p: say(_profiled(p)))
    if len(profiles) > 1:
        say(f"comparing {len(profiles)} files for keys that refer to each other...")
    relationships = find_relationships(profiles, con=con) if len(profiles) > 1 else []
    offsets = {p.table: o for p in profiles if (o := day_number_offset(con, p)) is not None}
    plan = make_plan(name, profiles, relationships, day_offsets=offsets)
    files = {folder / "dataset.yaml": dataset_yaml(plan), folder / "semantic.yaml": semantic_yaml(plan)}
    for table in (plan.fact, *plan.dimensions):
        files[folder / SUITES_FOLDER / f"{suite_name(plan, table)}.yaml"] = suite_yaml(plan, table)
    clash = [p for p in files if p.exists()]
    if clash and not force:
        raise UsageError(f"{clash[0]} exists: init never overwrites.", hint="Fix: pass --force to replace it.")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for line in summary(plan, folder, list(files)):
        say(line)
    return InitResult(folder=folder, written=tuple(files), plan=plan)


def _profiled(p: FileProfile) -> str:
    key = ", ".join(p.key) or "none found"
    return f"profiled {p.path.name}: {p.rows:,} rows, {len(p.columns)} columns, key {key} ({p.seconds:.1f} s)"


def summary(plan: Plan, folder: Path, written: list[Path]) -> list[str]:
    fact = plan.fact
    roles = {role: [c.name for c in fact.columns if c.role == role] for role in ("measure", "dimension", "date")}
    lines = [f"wrote {path}" for path in written]
    lines += [f"fact table {plan.name} from {fact.path.name}: key {', '.join(fact.key) or '(none found)'}, "
              f"time column {plan.time_column or '(none: derive one)'}",
              f"  measures: {', '.join(roles['measure']) or '-'}",
              f"  dimensions: {', '.join(roles['dimension']) or '-'}",
              f"  dates: {', '.join(roles['date']) or '-'}"]
    lines += [f"  reference: {r.column} -> {r.target}.{r.target_column}" for r in plan.references]
    lines += [f"  suggested (values only, commented out): {r.column} -> {r.target}.{r.target_column}"
              for r in plan.suggestions]
    lines += ["next:", f"  1. read the `review:` comments in {folder}",
              f"  2. retail-insights dataset check {plan.name} --data {' --data '.join(str(p.path) for p in (fact, *plan.dimensions))}",
              f"  3. retail-insights ingest --dataset {plan.name} {' '.join(str(p.path) for p in (fact, *plan.dimensions))}"]
    return lines
