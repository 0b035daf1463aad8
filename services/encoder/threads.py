"""How many CPU threads one forward uses: one for a short forward, every thread for a long one.

Waking torch's other threads costs more than they save on a short forward. On the 2-core
development machine (demo model, passive OpenMP waits) a lone query's text forward takes
0.7-1.0 ms on one thread and 2.6-3.4 ms on two, and 32 texts (5-7 ms) are still faster on one;
images cross over between 16 and 32 (4 images: 9.0 ms on one thread, 14.5 ms on two; 64 images:
130 ms on one, 90 ms on two). Every parallel region pays the wake-up again, so what decides is
how long the forward runs: a batch whose forward takes at least `ENCODER_PARALLEL_MIN_MS` on one
thread (20 ms: past it, sharing gains more than waking costs) uses every thread, a smaller one
a single thread. Each kind's threshold in items is measured at start-up
(`measure_parallel_from`). The choice never changes a vector: the towers' results are the same
bit for bit on one thread and on several (tested).

Under OpenMP, `torch.set_num_threads` sets the calling thread's count (and the default threads
started later pick up), so the runner switches around each forward on its own model thread and
restores the count after it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch

KINDS = ("text", "image")
REPEATS = 3


@dataclass(frozen=True)
class ThreadPlan:
    """`threads` for a forward of at least `parallel_from[kind]` items, one thread below that."""

    threads: int
    parallel_from: dict[str, int]

    def threads_for(self, kind: str, items: int) -> int:
        return self.threads if items >= self.parallel_from[kind] else 1

    @contextmanager
    def forward(self, kind: str, items: int) -> Iterator[None]:
        with threads(self.threads_for(kind, items)):
            yield


@contextmanager
def threads(count: int) -> Iterator[None]:
    """The calling thread runs torch with `count` threads inside the block."""
    before = torch.get_num_threads()
    if count == before:
        yield
        return
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _median_s(forward: Callable[[int], object], items: int) -> float:
    forward(items)  # the first forward of a new shape allocates
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        forward(items)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_parallel_from(forward: Callable[[int], object], max_items: int, min_s: float) -> int:
    """The smallest batch (1, 2, 4, ... `max_items`) whose forward takes at least `min_s` on one
    thread; `max_items + 1` (always one thread) when none does. `forward(n)` runs a batch of n.

    Only one-thread times are taken: they grow with the batch and stop at the first long one, so
    measuring costs a few times `min_s` at most, and a busy machine can only make a forward look
    longer, which errs towards sharing the threads, as forwards did before there was a plan."""
    sizes = sorted({min(2**i, max_items) for i in range(max_items.bit_length() + 1)})
    with threads(1):
        for items in sizes:
            if _median_s(forward, items) >= min_s:
                return items
    return max_items + 1
