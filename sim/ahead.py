"""Run a generator in a forked worker process, on the machine's other core, and read what it yields.

`xiaoqi bench month` generates and classifies the month this way while the main process handles it:
the two cores work at once. The worker is forked (it shares the loaded model copy-on-write) and sends
each item pickled through a bounded queue, so it runs at most `depth` items ahead.
"""

from __future__ import annotations

import gc
import multiprocessing
import pickle
import resource
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class WorkerUsage:
    """What the worker cost: CPU seconds and its own memory (pages not shared with the parent)."""

    cpu_s: float
    private_mb: float


@dataclass(frozen=True)
class _End:
    usage: WorkerUsage


@dataclass(frozen=True)
class _Failed:
    trace: str


class WorkerError(RuntimeError):
    """The worker process failed; the message holds its traceback."""


def private_mb() -> float:
    """This process's own resident memory (Private_Clean + Private_Dirty): what it adds to the machine."""
    rollup = Path("/proc/self/smaps_rollup")
    if not rollup.exists():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kb = 0
    for line in rollup.read_text().splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            kb += int(line.split()[1])
    return kb / 1024


def _work(queue: Any, produce: Callable[[], Iterator[Any]]) -> None:
    # items are pickled here rather than in the queue's feeder thread, which would only print an
    # error and drop the item
    try:
        for item in produce():
            queue.put(pickle.dumps(item, pickle.HIGHEST_PROTOCOL))
        usage = resource.getrusage(resource.RUSAGE_SELF)
        end = _End(WorkerUsage(round(usage.ru_utime + usage.ru_stime, 2), round(private_mb(), 1)))
        queue.put(pickle.dumps(end))
    except BaseException:  # everything goes back to the parent, which raises it
        queue.put(pickle.dumps(_Failed(traceback.format_exc())))


class Ahead(Generic[T]):
    """Starts the worker at once (fork: call it before starting threads); iterate to read its items."""

    def __init__(self, produce: Callable[[], Iterator[T]], depth: int = 8) -> None:
        context = multiprocessing.get_context("fork")
        self._queue = context.Queue(maxsize=depth)
        # objects alive now are the parent's: the worker's garbage collector leaves them alone, so it
        # does not copy every page it would otherwise touch
        gc.freeze()
        self._process = context.Process(target=_work, args=(self._queue, produce), daemon=True)
        self._process.start()
        gc.unfreeze()
        self.usage: WorkerUsage | None = None

    def __iter__(self) -> Iterator[T]:
        try:
            while True:
                item = pickle.loads(self._queue.get())
                if isinstance(item, _End):
                    self.usage = item.usage
                    return
                if isinstance(item, _Failed):
                    raise WorkerError(f"the worker process failed:\n{item.trace}")
                yield item
        finally:
            self.close()

    def close(self) -> None:
        if self._process.is_alive() and self.usage is None:
            self._process.terminate()
        self._process.join()
        self._queue.close()
