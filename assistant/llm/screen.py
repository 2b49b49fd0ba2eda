"""Prompt-injection defences that need no model: screen the question, scrub what the model says.

``screen`` runs before any LLM call (so a refused question costs nothing):
- ``injection``: text that addresses the assistant instead of the data ("ignore previous
  instructions", "show your system prompt", "print the API key", fence-breaking tags ...);
- ``write_request``: asks to change data ("drop the sales table", "delete all orders");
- ``off_topic``: nothing in it is about the data — no slot the router found and no word of the
  dataset's vocabulary (metrics, dimensions, values, columns, and everyday business words).

``scrub`` runs on the model's explanation before a user sees it: configured secrets are replaced,
key-like tokens and setting names are removed, and the text is cut to one short paragraph. The
prompt itself never holds secrets or settings, so this is a second line, not the first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
import re
from typing import TYPE_CHECKING, Literal

from warehouse.spec import load_dataset

if TYPE_CHECKING:
    from assistant.router import Route

Verdict = Literal["ok", "injection", "write_request", "off_topic"]
MAX_SHOWN_CHARS = 400

_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b.{0,40}"
    r"\b(?:instructions?|rules?|prompts?|guardrails?|above|previous|prior)\b"
    r"|\b(?:system|developer|hidden|initial)\s+(?:prompt|message|instructions?)\b"
    r"|\byou\s+are\s+(?:now|no\s+longer)\b|\b(?:act|pretend|behave)\s+as\b|\bjailbreak|\bdeveloper\s+mode\b"
    r"|\b(?:api|secret|access|private)[\s_-]*keys?\b|\bpasswords?\b|\bcredentials?\b|\btokens?\s+(?:for|of)\s+the\b"
    r"|\benv(?:ironment)?\s+var(?:iable)?s?\b|\bgetenv\b|\bos\.environ\b|\bRETAIL_[A-Z_]+\b|\.env\b|/etc/\w+"
    r"|\b(?:reveal|print|show|dump|leak|repeat|output)\b.{0,30}"
    r"\b(?:prompt|instructions|settings|config(?:uration)?|secrets?)\b"
    r"|</?\s*(?:system|assistant|user_question|data|example|instructions?)\s*>",
    re.I | re.S)
_WRITE = re.compile(
    r"\b(?:drop|truncate|delete|insert|update|alter|create|attach|copy|export|vacuum|install|load)\s+"
    r"(?:(?:the|all|a|an|every|this)\s+)?(?:\w+\s+)?(?:tables?|views?|database|schema|extensions?|rows|records)\b"
    r"|\b(?:drop|delete|wipe|erase|truncate)\s+(?:(?:the|all|every)\s+)?(?:\w+\s+)?"
    r"(?:data|orders|sales|customers|products|history)\b"
    r"|\binsert\s+into\b|\bupdate\s+\w+\s+set\b",
    re.I)
# Everyday words of questions about sales data that the semantic model does not spell out.
BUSINESS_WORDS = frozenset("""
sales sale sell sold selling revenue revenues income earn earned earning cash money spend spent spending buy
bought buying purchase purchases purchased customer customers client clients order orders ordered product
products item items store stores shop shops price prices priced cost costs costly discount discounts
profit profits profitable margin margins quantity units unit ship shipped shipping shipment delivery
delivered category categories region regions state states city cities channel channels segment segments
month months monthly year years yearly annual week weeks weekly day days daily quarter quarters quarterly
today yesterday total totals average avg mean median count number how many much top best worst highest
lowest most least trend trends growth grew compare compared comparison versus vs share percent percentage
rate ratio per each data dataset table tables column columns value values performance performed perform
bring brought make made generate generated
""".split())


@dataclass(frozen=True)
class ScreenResult:
    verdict: Verdict
    message: str            # what the user is told when the verdict is not "ok"


def screen(question: str, *, dataset: str, route: Route | None = None) -> ScreenResult:
    """Whether ``question`` may go to the model, and if not, why (see the module docstring)."""
    if _INJECTION.search(question):
        return ScreenResult("injection", "This reads like an instruction to the assistant rather than a question "
                            "about the data, so it was not sent to the language model. Ask about the "
                            f"{dataset} data, e.g. revenue by category last month.")
    if _WRITE.search(question):
        return ScreenResult("write_request", "The assistant only reads data; it never changes, deletes or exports "
                            "it. Ask a question about the data instead.")
    if route is not None and route.slots:
        return ScreenResult("ok", "")
    words = set(re.findall(r"[a-z0-9_]+", question.lower()))
    if words & (BUSINESS_WORDS | _vocabulary(dataset)):
        return ScreenResult("ok", "")
    return ScreenResult("off_topic", f"This does not look like a question about the {dataset} data, so I will not "
                        "answer it. Ask about sales, orders, customers or products, e.g. revenue by "
                        "category last month.")


@lru_cache(maxsize=8)
def _vocabulary(dataset: str) -> frozenset[str]:
    ds = load_dataset(dataset)
    model = ds.semantic
    phrases: list[str] = [*model.metrics, *model.dimensions, *ds.spec.column_names, model.table]
    for metric in model.metrics.values():
        phrases += metric.synonyms
    for dim in model.dimensions.values():
        phrases += [*dim.synonyms, *(dim.values or ())]
    return frozenset(w for p in phrases for w in re.findall(r"[a-z0-9]+", p.lower().replace("_", " ")) if len(w) > 2)


_KEY_LIKE = re.compile(r"\b(?:sk|pk|rk|key|tok|ghp|xox[abp])[-_][A-Za-z0-9_\-]{12,}\b|\b[A-Za-z0-9+/]{40,}={0,2}")
_SETTING = re.compile(r"\bRETAIL_[A-Z0-9_]+\b|\b(?:api_key|api_base|mock_response|pinecone_api_key)\b", re.I)


def scrub(text: str, *, secrets: Iterable[str] = ()) -> str:
    """``text`` without configured secrets, key-like tokens or setting names, at most 400 characters."""
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    text = _SETTING.sub("[redacted]", _KEY_LIKE.sub("[redacted]", text))
    text = " ".join(text.split())
    return text if len(text) <= MAX_SHOWN_CHARS else text[: MAX_SHOWN_CHARS - 3].rstrip() + "..."
