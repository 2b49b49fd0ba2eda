"""Re-binding a remembered intent onto a new question's slot values (the semantic tier's core).

"revenue in Texas in March 2024" remembered as a template answers "sales in Ohio for April 2023" as
Ohio / April 2023: slots pair up in reading order within each group (kind, the dimension of a filter
value, window vs grain for time), and each old value in the template's intent is replaced by the new
one. Slots whose meaning is more than a name (amounts, conditions) are never re-bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from assistant.intent import Filter, Intent, TimeWindow
from assistant.periods import previous_period, shift_days, shift_months
from assistant.slots import Slot

_REBINDABLE = frozenset({"metric", "dimension", "filter_value", "time", "number"})


def _group(slot: Slot) -> tuple[str, str]:
    if slot.kind == "filter_value" and isinstance(slot.value, Filter):
        return slot.kind, slot.value.dimension + (":not" if slot.value.negate else "")
    if slot.kind == "time":
        return slot.kind, "grain" if isinstance(slot.value, str) else "window"
    return slot.kind, ""


def rebind(template: Intent, template_slots: Sequence[Slot], new_slots: Sequence[Slot]) -> Intent | None:
    """``template`` with its slot values replaced by the new question's, or None if they do not line up.

    Slots pair up in reading order within each group (kind, and the dimension of a filter value, and
    window vs grain for time). A compare window the template derived from its main window (growth:
    the previous period or a year earlier) is derived again from the new window.
    """
    if any(s.kind not in _REBINDABLE for s in (*template_slots, *new_slots)):
        return None
    groups: dict[tuple[str, str], list[Slot]] = {}
    for s in template_slots:
        groups.setdefault(_group(s), []).append(s)
    new_groups: dict[tuple[str, str], list[Slot]] = {}
    for s in new_slots:
        new_groups.setdefault(_group(s), []).append(s)
    if {k: len(v) for k, v in groups.items()} != {k: len(v) for k, v in new_groups.items()}:
        return None
    intent = template
    derived_shift_ = derived_shift(template, [s.value for s in groups.get(("time", "window"), [])])
    for key, olds in groups.items():
        if key[0] == "filter_value":
            intent = _swap_filter(intent, olds, new_groups[key])
            if intent is None:
                return None
            continue
        for old, new in zip(olds, new_groups[key]):
            intent = _swap(intent, old, new)
    if derived_shift_ is not None and intent.time is not None:
        intent = replace(intent, compare_time=derived_shift_(intent.time))
    if intent.compare_time is not None and intent.time is not None and intent.compare_time.start > intent.time.start:
        intent = replace(intent, time=intent.compare_time, compare_time=intent.time)
    return intent


def derived_shift(template: Intent, windows: list[object]):
    if template.time is None or template.compare_time is None or template.compare_time in windows:
        return None
    for months in (1, 3, 6, 12):
        if shift_months(template.time, months) == template.compare_time:
            return lambda w, k=months: shift_months(w, k)
    if previous_period(template.time) == template.compare_time:
        return previous_period
    days = (template.time.start - template.compare_time.start).days
    return lambda w: shift_days(w, days)


def _swap(intent: Intent, old: Slot, new: Slot) -> Intent:
    if old.kind == "metric":
        return replace(intent, metrics=tuple(new.value if m == old.value else m for m in intent.metrics))
    if old.kind == "dimension":
        return replace(intent, dimensions=tuple(new.value if d == old.value else d for d in intent.dimensions))
    if old.kind == "number":
        return replace(intent, top_n=int(new.value)) if intent.top_n == old.value else intent  # type: ignore[arg-type]
    if isinstance(old.value, str):   # a grain
        return replace(intent, grain=new.value) if intent.grain == old.value else intent  # type: ignore[arg-type]
    assert isinstance(old.value, TimeWindow) and isinstance(new.value, TimeWindow)
    if intent.time == old.value:
        return replace(intent, time=new.value)
    if intent.compare_time == old.value:
        return replace(intent, compare_time=new.value)
    return intent


def _swap_filter(intent: Intent, olds: list[Slot], news: list[Slot]) -> Intent | None:
    """Swap all values of one (dimension, negate) group at once, so CA,TX -> TX,CA cannot collide."""
    first = olds[0].value
    assert isinstance(first, Filter)
    old_values = [v for s in olds for v in s.value.values]  # type: ignore[attr-defined]
    new_values = tuple(dict.fromkeys(v for s in news for v in s.value.values))  # type: ignore[attr-defined]
    filters, found = [], False
    for f in intent.filters:
        if f.dimension == first.dimension and f.negate == first.negate and set(f.values) == set(old_values):
            f, found = Filter(f.dimension, new_values, f.negate), True
        filters.append(f)
    return replace(intent, filters=tuple(filters)) if found else None
