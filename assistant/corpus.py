"""The language corpus (issue 16): paraphrases, traps and follow-up conversations, and how they score.

Files live in ``assistant/golden/language/``. Every question carries its truth as SQL written by hand
over the dataset's base table (never the assistant's compiler), run on the same warehouse as the
assistant. A ``<kind>.dev.<dataset>.yaml`` file was used while writing the rules; a ``<kind>.heldout.<dataset>.yaml`` was
written separately and is only ever scored, so its figures say how the rules do on new wording.

Scoring, per question:
- ``correct``: answered, and the answer's table contains the truth's table: every truth column is
  found among the answer's columns (matched by values, so extra columns such as a change or a share
  do not count against it), with the same rows (in order when the entry says ``ordered``);
- ``clarify``: the assistant asked to rephrase (or refused);
- ``wrong``: answered with other numbers, or answered where the entry expects a clarification.

Numbers compare within 1e-6 relative or half a cent absolute; dates compare as ISO text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import permutations
from pathlib import Path
from typing import Any, Literal

import yaml

from assistant.answer import Answer, jsonable
from assistant.eval import _same, _sort_key
from retail_insights.errors import ConfigError

CORPUS_DIR = Path(__file__).parent / "golden" / "language"
AS_OF: dict[str, date] = {"retail_sales": date(2024, 7, 1), "superstore": date(2018, 1, 1)}
Verdict = Literal["correct", "clarify", "wrong"]
Split = Literal["dev", "heldout"]


@dataclass(frozen=True)
class Entry:
    """One question with its truth (``sql``) or the expectation that it clarifies (``sql`` None)."""

    question: str
    dataset: str
    group: str                 # the shape id, the trap kind, or the conversation id
    sql: str | None
    ordered: bool = False
    as_of: date | None = None

    @property
    def day(self) -> date:
        return self.as_of or AS_OF[self.dataset]


@dataclass(frozen=True)
class Conversation:
    id: str
    dataset: str
    turns: tuple[Entry, ...]


@dataclass(frozen=True)
class Scored:
    entry: Entry
    verdict: Verdict
    answer: Answer
    reason: str = ""


@dataclass
class Tally:
    """correct / wrong / clarify counts, overall and per group, and how the entries without a right
    answer (``clarify: true``) fared."""

    counts: Counter[str] = field(default_factory=Counter)
    groups: dict[str, Counter[str]] = field(default_factory=dict)
    no_answer: int = 0             # entries whose right answer is a clarification
    clarified_as_expected: int = 0  # of those, the ones that clarified

    def add(self, scored: Scored) -> None:
        self.counts[scored.verdict] += 1
        if scored.entry.sql is None:
            self.no_answer += 1
            self.clarified_as_expected += scored.verdict == "clarify"
        self.groups.setdefault(scored.entry.group, Counter())[scored.verdict] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def rate(self, verdict: Verdict) -> float:
        return self.counts[verdict] / self.total if self.total else 0.0

    @property
    def right(self) -> float:
        """The share answered as the entry expects: the right number, or a clarification where the
        entry has no right answer."""
        return (self.counts["correct"] + self.clarified_as_expected) / self.total if self.total else 0.0


def _load(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"corpus file {path} does not exist.", hint=f"Fix: pick one of {sorted(p.name for p in CORPUS_DIR.glob('*.yaml'))}.")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top.", hint="Fix: see assistant/corpus.py.")
    return data


def _entry(raw: dict[str, Any], path: Path, group_key: str, as_of: Any = None) -> Entry:
    missing = [k for k in ("question", "dataset", group_key) if k not in raw]
    if missing or ("sql" not in raw and not raw.get("clarify")):
        raise ConfigError(f"{path}: entry {raw.get('question', raw)!r} lacks {missing or ['sql or clarify: true']}.",
                          hint="Fix: give question, dataset, the group key and sql (or clarify: true).")
    if raw.get("ordered") and "order by" not in str(raw.get("sql", "")).lower():
        raise ConfigError(f"{path}: entry {raw['question']!r} is ordered but its SQL has no ORDER BY.",
                          hint="Fix: add the ORDER BY the question asks for, or drop 'ordered'.")
    as_of = raw.get("as_of", as_of)
    return Entry(question=str(raw["question"]), dataset=str(raw["dataset"]), group=str(raw[group_key]),
                 sql=raw.get("sql"), ordered=bool(raw.get("ordered", False)),
                 as_of=date.fromisoformat(str(as_of)) if as_of else None)


def load_questions(path: Path) -> list[Entry]:
    """A paraphrase file (entries keyed by ``shape``) or a trap file (keyed by ``kind``)."""
    data = _load(path)
    key = "kind" if "traps" in path.name else "shape"
    return [_entry(q, path, key, data.get("as_of")) for q in data.get("questions", [])]


def load_conversations(path: Path) -> list[Conversation]:
    data = _load(path)
    out = []
    for conv in data.get("conversations", []):
        turns = tuple(_entry({**t, "dataset": conv["dataset"], "id": conv["id"]}, path, "id", data.get("as_of"))
                      for t in conv["turns"])
        out.append(Conversation(str(conv["id"]), str(conv["dataset"]), turns))
    return out


def corpus_files(kind: Literal["paraphrase", "traps", "followups"], split: Split, folder: Path = CORPUS_DIR) -> list[Path]:
    """The files of one kind and split, one per dataset: ``<kind>.<split>.<dataset>.yaml``.

    ``folder`` is the language corpus of the project's two datasets by default; another dataset's
    corpus (its own shapes, its own truth source) lives in a folder of its own (``tpcds_store/``)."""
    return sorted(folder.glob(f"{kind}.{split}.*.yaml"))


# --- table matching ---------------------------------------------------------------------------------
def _column(rows: Sequence[Sequence[Any]], i: int) -> list[Any]:
    return [jsonable(r[i]) for r in rows]


def _same_multiset(a: list[Any], b: list[Any]) -> bool:
    return all(_same(x, y) for x, y in zip(sorted(a, key=lambda v: _sort_key([v])), sorted(b, key=lambda v: _sort_key([v]))))


def contains_table(answer_rows: Sequence[Sequence[Any]], truth_rows: Sequence[Sequence[Any]], *,
                   ordered: bool) -> str:
    """'' when every truth column is found among the answer's columns with the same rows, else why not."""
    if len(answer_rows) != len(truth_rows):
        return f"{len(answer_rows)} rows, expected {len(truth_rows)}"
    if not truth_rows:
        return ""
    answer_rows = [[jsonable(v) for v in r] for r in answer_rows]
    truth_rows = [[jsonable(v) for v in r] for r in truth_rows]
    width = len(answer_rows[0])
    truth_width = len(truth_rows[0])
    candidates = []
    for j in range(truth_width):
        want = _column(truth_rows, j)
        found = [i for i in range(width) if _same_multiset(_column(answer_rows, i), want)]
        if not found:
            return f"no answer column holds the truth's column {j + 1} ({want[:3]}...)"
        candidates.append(found)
    for mapping in _mappings(candidates):
        projected = [[r[i] for i in mapping] for r in answer_rows]
        if _rows_equal(projected, [list(r) for r in truth_rows], ordered=ordered):
            return ""
    return "the answer's rows pair the values differently" + (" or in another order" if ordered else "")


def _mappings(candidates: list[list[int]]) -> Iterator[tuple[int, ...]]:
    def walk(j: int, used: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
        if j == len(candidates):
            yield used
            return
        for i in candidates[j]:
            if i not in used:
                yield from walk(j + 1, used + (i,))
    yield from walk(0, ())


def _rows_equal(a: list[list[Any]], b: list[list[Any]], *, ordered: bool) -> bool:
    if not ordered:
        a, b = sorted(a, key=_sort_key), sorted(b, key=_sort_key)
    return all(len(x) == len(y) and all(_same(u, v) for u, v in zip(x, y)) for x, y in zip(a, b))


# --- scoring ----------------------------------------------------------------------------------------
def score(entry: Entry, answer: Answer, truth: Callable[[str], Sequence[Sequence[Any]]]) -> Scored:
    """The verdict on one answer; ``truth(sql)`` runs the entry's SQL on the warehouse."""
    if answer.status != "answered":
        return Scored(entry, "clarify", answer, answer.status)
    if entry.sql is None:
        return Scored(entry, "wrong", answer, "answered a question that has no right answer here")
    why = contains_table(answer.rows, truth(entry.sql), ordered=entry.ordered)
    return Scored(entry, "wrong" if why else "correct", answer, why)


def truth_runner(runner_for: Callable[[str], Any]) -> Callable[[Entry], Callable[[str], list[list[Any]]]]:
    """entry -> (sql -> rows) over the warehouse the assistant reads, cached per SQL text."""
    cache: dict[str, list[list[Any]]] = {}

    def for_entry(entry: Entry) -> Callable[[str], list[list[Any]]]:
        def run(sql: str) -> list[list[Any]]:
            if sql not in cache:
                cache[sql] = [list(r) for r in runner_for(entry.dataset).query(sql, []).rows]
            return cache[sql]
        return run
    return for_entry


def run_questions(assistant: Any, entries: Sequence[Entry], truth: Callable[[Entry], Callable[[str], Any]],
                  *, on_scored: Callable[[Scored], None] | None = None) -> Tally:
    """Ask every entry (no conversation) and tally the verdicts."""
    tally = Tally()
    for entry in entries:
        scored = score(entry, assistant.answer(entry.question, dataset=entry.dataset, as_of=entry.day), truth(entry))
        tally.add(scored)
        if on_scored is not None:
            on_scored(scored)
    return tally


def run_conversations(assistant: Any, conversations: Sequence[Conversation],
                      truth: Callable[[Entry], Callable[[str], Any]],
                      *, on_scored: Callable[[Scored], None] | None = None) -> Tally:
    """Ask each conversation's turns in order, each with the conversation id its last answer gave."""
    tally = Tally()
    for conversation in conversations:
        conversation_id: str | None = None
        for turn in conversation.turns:
            answer = assistant.answer(turn.question, dataset=turn.dataset, as_of=turn.day,
                                      conversation_id=conversation_id)
            conversation_id = answer.conversation_id
            scored = score(turn, answer, truth(turn))
            tally.add(scored)
            if on_scored is not None:
                on_scored(scored)
    return tally


def evaluate(assistant: Any, runner_for: Callable[[str], Any], kind: Literal["paraphrase", "traps", "followups"],
             split: Split, *, on_scored: Callable[[Scored], None] | None = None, folder: Path = CORPUS_DIR) -> Tally:
    """One kind and split of the corpus through ``assistant``; truth SQL runs through ``runner_for``."""
    truth = truth_runner(runner_for)
    files = corpus_files(kind, split, folder)
    if kind == "followups":
        return run_conversations(assistant, [c for f in files for c in load_conversations(f)], truth, on_scored=on_scored)
    return run_questions(assistant, [e for f in files for e in load_questions(f)], truth, on_scored=on_scored)
