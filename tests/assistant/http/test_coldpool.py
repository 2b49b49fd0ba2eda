"""The cold pool on its own: bounded queue, single flight, the caller's context in the pool thread."""

from __future__ import annotations

import contextvars
import threading

import pytest

from assistant.http.coldpool import ColdPool, Overloaded

WHO = contextvars.ContextVar("who", default="nobody")


@pytest.fixture
def pool():
    made = ColdPool(workers=1, max_queued=1)
    yield made
    made.shutdown()


def _blocked(pool: ColdPool) -> threading.Event:
    gate = threading.Event()
    pool.run(None, lambda: gate.wait(30))
    return gate


def test_identical_keys_in_flight_share_one_computation(pool: ColdPool) -> None:
    gate = _blocked(pool)
    calls: list[int] = []
    first = pool.run("k", lambda: calls.append(1) or 42)
    second = pool.run("k", lambda: calls.append(2) or 43)
    assert (first.leader, second.leader) == (True, False)
    assert second.future is first.future
    gate.set()
    assert first.future.result(10) == second.future.result(10) == 42
    assert calls == [1] and pool.shared == 1


def test_a_key_is_computed_again_once_its_flight_has_landed(pool: ColdPool) -> None:
    assert pool.run("k", lambda: 1).future.result(10) == 1
    again = pool.run("k", lambda: 2)
    assert again.leader and again.future.result(10) == 2


def test_a_full_queue_sheds_new_work_but_not_work_already_in_flight(pool: ColdPool) -> None:
    gate = _blocked(pool)
    queued = pool.run("a", lambda: "a")
    assert pool.queued == 1
    with pytest.raises(Overloaded, match=r"1 new questions are already waiting \(the limit is 1\)") as refused:
        pool.run("b", lambda: "b")
    assert refused.value.retry_after_s == 1
    assert not pool.run("a", lambda: "again").leader       # joining a flight costs no queue slot
    gate.set()
    assert queued.future.result(10) == "a"
    assert pool.shed == 1
    assert pool.run("b", lambda: "b").future.result(10) == "b"   # room again once the queue drained


def test_work_runs_with_the_callers_context(pool: ColdPool) -> None:
    token = WHO.set("key-7")
    try:
        flight = pool.run(None, WHO.get)
    finally:
        WHO.reset(token)
    assert flight.future.result(10) == "key-7"


def test_a_failure_reaches_every_waiter_and_frees_the_key(pool: ColdPool) -> None:
    gate = _blocked(pool)

    def boom() -> None:
        raise RuntimeError("warehouse gone")

    first, second = pool.run("k", boom), pool.run("k", boom)
    gate.set()
    for flight in (first, second):
        with pytest.raises(RuntimeError, match="warehouse gone"):
            flight.future.result(10)
    assert pool.run("k", lambda: "fine").future.result(10) == "fine"


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="workers=0 must be >= 1"):
        ColdPool(workers=0, max_queued=1)
