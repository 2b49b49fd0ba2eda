"""What ``dataset check`` reports: problems, each with where it is and its fix, and what was looked at."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Problem:
    where: str   # file:key, e.g. semantic.yaml:metrics.sales.base
    what: str
    fix: str

    def line(self) -> str:
        return f"{self.where}: {self.what} Fix: {self.fix}"


@dataclass
class CheckReport:
    dataset: str
    folder: Path
    problems: list[Problem] = field(default_factory=list)
    checked: dict[str, Any] = field(default_factory=dict)   # what was looked at (files, rows...)

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        if self.problems:
            head = f"{len(self.problems)} problem{'s' if len(self.problems) > 1 else ''} in {self.dataset} ({self.folder}):"
            return "\n".join([head, *(p.line() for p in self.problems)])
        return f"ok: {self.dataset}: " + "; ".join(f"{k} {v}" for k, v in self.checked.items())

    def to_json(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "folder": str(self.folder), "ok": self.ok, "checked": self.checked,
                "problems": [p.__dict__ for p in self.problems]}
