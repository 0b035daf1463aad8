"""The one timer of the benchmarks: seconds per call after untimed warm-up calls, and their median."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def times_s(
    fn: Callable[[], object],
    repeats: int,
    *,
    warmup: int = 1,
    min_s: float = 0.0,
    sync: Callable[[], object] | None = None,
) -> list[float]:
    """Seconds of each timed call of `fn`. `warmup` untimed calls go first (page faults, thread pools,
    allocators, autotuning); then at least `repeats` timed calls, more until `min_s` have passed. `sync`
    (a device synchronise) runs after every call, so a time covers the work queued on a GPU too."""
    for _ in range(warmup):
        fn()
    if sync is not None:
        sync()
    times: list[float] = []
    deadline = time.perf_counter() + min_s
    while len(times) < repeats or time.perf_counter() < deadline:
        start = time.perf_counter()
        fn()
        if sync is not None:
            sync()
        times.append(time.perf_counter() - start)
    return times


def median_s(
    fn: Callable[[], object],
    repeats: int,
    *,
    warmup: int = 1,
    min_s: float = 0.0,
    sync: Callable[[], object] | None = None,
) -> float:
    """Median seconds of one call of `fn`, timed as `times_s` times it."""
    return statistics.median(times_s(fn, repeats, warmup=warmup, min_s=min_s, sync=sync))
