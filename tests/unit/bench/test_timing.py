"""The benchmarks' one timer: warm-up calls untimed, the device synchronised after every call."""

from __future__ import annotations

import time

from bench.timing import median_s


def test_warmup_then_repeats_each_followed_by_sync() -> None:
    events: list[str] = []
    median_s(lambda: events.append("call"), 3, warmup=2, sync=lambda: events.append("sync"))
    assert events == ["call", "call", "sync"] + ["call", "sync"] * 3


def test_min_s_keeps_timing_past_the_repeats() -> None:
    calls: list[float] = []
    median_s(lambda: calls.append(time.perf_counter()), 2, warmup=0, min_s=0.05)
    assert len(calls) > 2 and calls[-1] - calls[0] >= 0.04


def test_the_median_is_of_the_timed_calls_only() -> None:
    delays = iter([0.2, 0.0, 0.0, 0.0])  # a slow first (warm-up) call is not counted
    assert median_s(lambda: time.sleep(next(delays)), 3, warmup=1) < 0.1
