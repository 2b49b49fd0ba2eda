"""The query watchdog: one thread runs each armed action when due, unless it was disarmed."""

from __future__ import annotations

import threading

from warehouse.backends.watchdog import Watchdog


def test_an_armed_action_runs_when_due() -> None:
    fired = threading.Event()
    Watchdog().arm(0.01, fired.set)
    assert fired.wait(timeout=30)


def test_a_disarmed_action_never_runs_while_a_later_one_does() -> None:
    watchdog = Watchdog()
    cancelled, later = threading.Event(), threading.Event()
    token = watchdog.arm(0.05, cancelled.set)
    watchdog.disarm(token)
    watchdog.arm(0.1, later.set)
    assert later.wait(timeout=30)          # the cancelled one came due first, and was skipped
    assert not cancelled.is_set()


def test_a_failing_action_does_not_stop_the_watchdog() -> None:
    watchdog = Watchdog()
    fired = threading.Event()

    def boom() -> None:
        raise RuntimeError("interrupt failed")

    watchdog.arm(0.0, boom)
    watchdog.arm(0.01, fired.set)
    assert fired.wait(timeout=30)
