"""A new data version: one background warm-up per version, and the previous one stands in for a second."""

from __future__ import annotations

import threading

from assistant.intent import Intent
from assistant.refresh import HotIntents, VersionSwitch


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _until(condition) -> None:
    stop = threading.Event()
    for _ in range(200):
        if condition():
            return
        stop.wait(0.025)
    raise AssertionError("not reached in 5 s")


def _switch(clock: Clock) -> tuple[VersionSwitch, list[tuple[str, int | None]], threading.Event]:
    warmed: list[tuple[str, int | None]] = []
    done = threading.Event()

    def warm(dataset: str, version: int | None) -> None:
        warmed.append((dataset, version))
        done.set()

    return VersionSwitch(warm, grace_s=1.0, clock=clock), warmed, done


def test_the_previous_version_stands_in_only_for_the_grace_after_a_new_one_appears() -> None:
    clock = Clock()
    switch, warmed, done = _switch(clock)
    assert switch.bridge("superstore", 3) is None          # the first version seen: nothing to bridge
    clock.now += 30
    assert switch.bridge("superstore", 5) == 3             # a load committed: 3 may stand in
    assert done.wait(5) and warmed == [("superstore", 5)]   # and 5 is warmed, once
    _until(lambda: switch.warmed("superstore"))
    clock.now += 0.5
    assert switch.bridge("superstore", 5) == 3
    clock.now += 0.6
    assert switch.bridge("superstore", 5) is None          # past the grace: only 5's answers
    assert warmed == [("superstore", 5)]
    assert switch.bridge("retail_sales", 7) is None        # datasets are tracked apart


def test_the_previous_version_stands_in_while_the_warm_up_runs_up_to_the_longest_grace() -> None:
    clock, release, entered = Clock(), threading.Event(), threading.Event()

    def slow_warm(dataset: str, version: int | None) -> None:
        entered.set()
        release.wait(5)

    switch = VersionSwitch(slow_warm, grace_s=1.0, max_grace_s=3.0, clock=clock)
    switch.bridge("superstore", 3)
    clock.now += 30
    assert switch.bridge("superstore", 5) == 3 and entered.wait(5)
    clock.now += 1.5
    assert switch.bridge("superstore", 5) == 3              # past the grace, still warming: 3 stands in
    assert not switch.warmed("superstore")
    release.set()
    _until(lambda: switch.warmed("superstore"))
    assert switch.bridge("superstore", 5) is None           # warmed: only 5's answers
    clock.now += 5
    assert switch.bridge("superstore", 5) is None


def test_a_warm_up_that_never_ends_stands_in_no_longer_than_the_longest_grace() -> None:
    clock, release = Clock(), threading.Event()
    switch = VersionSwitch(lambda dataset, version: release.wait(5), grace_s=1.0, max_grace_s=3.0, clock=clock)
    switch.bridge("superstore", 3)
    assert switch.bridge("superstore", 4) == 3
    clock.now += 2.9
    assert switch.bridge("superstore", 4) == 3
    clock.now += 0.2
    assert switch.bridge("superstore", 4) is None
    release.set()


def test_a_worker_a_step_behind_does_not_move_the_version_back() -> None:
    clock = Clock()
    switch, warmed, _ = _switch(clock)
    switch.bridge("superstore", 5)
    assert switch.bridge("superstore", 4) is None
    assert switch.bridge("superstore", 5) is None and warmed == []


def test_hot_intents_are_the_most_asked_and_stay_bounded() -> None:
    hot = HotIntents(kept=2)
    intents = {name: Intent(dataset="superstore", metrics=(name,), operation="total") for name in ("sales", "profit", "quantity")}
    for name, times in (("sales", 5), ("profit", 3), ("quantity", 1)):
        for _ in range(times):
            hot.note("superstore", name, intents[name])
    assert [i.metrics[0] for i in hot.top("superstore", 2)] == ["sales", "profit"]
    for n in range(10):
        hot.note("superstore", f"rare-{n}", intents["quantity"])
    assert len(hot.top("superstore", 100)) <= 2 * 2 + 1
    assert hot.top("superstore", 1)[0].metrics == ("sales",)
