"""The semantic model is the one source of a dataset's words: no Python file of the assistant names them."""

from __future__ import annotations

import ast
from pathlib import Path

from assistant.vocabulary import build_vocabulary
from warehouse.spec import dataset_names, load_dataset

ASSISTANT = Path(__file__).resolve().parents[2] / "assistant"


def _dataset_words() -> set[str]:
    """Metric names, members, and the multi-word synonyms, verbs and condition words of every dataset
    (single plain English words such as "unit" or "rows" also name Python things, so they are left out)."""
    words: set[str] = set()
    for name in dataset_names():
        model = load_dataset(name).semantic
        for metric, m in model.metrics.items():
            words |= {metric, *(p for p in (*m.synonyms, *m.verbs) if " " in p)}
        for dim in model.dimensions.values():
            words |= {*(dim.values or ()), *dim.aliases.values(), *(a for a in dim.aliases if " " in a)}
        for cond in model.language.conditions.values():
            words |= {w for w in cond.words if " " in w}
    return {w for w in words if len(w) > 2}


def _string_constants(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_no_assistant_module_names_a_metric_member_or_synonym_of_a_dataset() -> None:
    words = _dataset_words()
    found = [f"{path.relative_to(ASSISTANT)}:{line} {text!r}"
             for path in sorted(ASSISTANT.rglob("*.py")) if "golden" not in path.parts
             for line, text in _string_constants(path) if text in words]
    assert found == []


def test_every_word_of_the_vocabulary_comes_from_the_model() -> None:
    vocab = build_vocabulary("retail_sales")
    model = load_dataset("retail_sales").semantic
    assert vocab.verb_phrases["sold"] == "revenue" and vocab.condition_phrases["unprofitable"] == "unprofitable"
    assert vocab.entity_words["purchases"] == "order" and vocab.bucket_phrases["order values"] == "order_value"
    aliased = {e.phrase: e.values for e in vocab.values if e.dimension == "channel"}
    assert all(aliased[word.lower()] == (value,) for word, value in model.dimensions["channel"].aliases.items())


def test_a_new_data_version_with_the_same_words_reuses_the_speller_and_new_words_get_their_own() -> None:
    """Building a speller holds the GIL for up to a second on a busy service: each new data version's
    vocabulary would otherwise build one on its first question."""
    cities = {"city": ["Springfield", "Jacksonville"]}
    first, same = (build_vocabulary("superstore", open_values=cities) for _ in range(2))
    assert first is not same and first.speller is same.speller
    more = build_vocabulary("superstore", open_values={"city": [*cities["city"], "Tallahassee"]})
    assert more.speller is not first.speller
    assert more.speller.word("Talahassee") == "Tallahassee" and first.speller.word("Talahassee") is None
