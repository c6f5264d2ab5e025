"""The forked worker that generates and classifies a benchmark's month on the other core."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest

from nlp import Labels
from sim.ahead import Ahead, WorkerError


def test_items_arrive_in_order_from_another_process_with_what_it_cost() -> None:
    parent = os.getpid()

    def produce() -> Iterator[tuple[int, int, Labels]]:
        for n in range(50):
            scores = {"intent": {"诉求": 0.75, "闲聊": 0.25}}
            yield n, os.getpid(), Labels("诉求", "物业管理", "负面", scores)

    ahead = Ahead(produce, depth=4)
    items = list(ahead)
    assert [n for n, _, _ in items] == list(range(50))
    assert {pid for _, pid, _ in items} != {parent}  # made elsewhere
    labels = items[0][2]
    assert labels == Labels("诉求", "物业管理", "负面") and labels.confidence == 0.75
    assert ahead.usage is not None and ahead.usage.cpu_s >= 0 and ahead.usage.private_mb > 0


def test_a_failing_worker_raises_its_error_here() -> None:
    def produce() -> Iterator[int]:
        yield 1
        raise ValueError("the month ran out")

    ahead = Ahead(produce)
    seen: list[int] = []
    with pytest.raises(WorkerError, match="the month ran out"):
        seen.extend(ahead)
    assert seen == [1]


def test_an_item_that_cannot_cross_is_an_error_not_a_silent_gap() -> None:
    def produce() -> Iterator[object]:
        yield 1
        yield threading.Lock()  # cannot be pickled
        yield 3

    with pytest.raises(WorkerError, match="pickle"):
        list(Ahead(produce))


def test_stopping_early_stops_the_worker() -> None:
    def produce() -> Iterator[int]:
        n = 0
        while True:  # never ends by itself
            yield n
            n += 1

    ahead = Ahead(produce, depth=2)
    first = []
    for n in ahead:
        first.append(n)
        if n == 5:
            break
    ahead.close()
    assert first == list(range(6)) and not ahead._process.is_alive()
