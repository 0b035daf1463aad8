"""The encoder's thread plan: one CPU thread for small forwards, every thread for large ones."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
import torch

from services.encoder import threads as threads_module
from services.encoder.loading import load_runner
from services.encoder.runner import ModelRunner, resolve_dtype
from services.encoder.settings import EncoderSettings
from services.encoder.threads import ThreadPlan, measure_parallel_from, threads

if TYPE_CHECKING:
    from vi_clip import ViClip


class FakeClock:
    """`time.perf_counter` for `measure_parallel_from`, advanced by the fake forward."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now


def _costed_forward(clock: FakeClock, seconds: dict[int, float], calls: list[tuple[int, int]]):
    """A forward of n items costing `seconds[n]`, recording (n, torch threads) of every call."""

    def forward(n: int) -> None:
        calls.append((n, torch.get_num_threads()))
        clock.now += seconds[n]

    return forward


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(threads_module, "time", fake)
    return fake


def test_the_threads_block_sets_the_count_and_restores_it() -> None:
    with threads(2):
        with threads(1):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with pytest.raises(RuntimeError), threads(1):
            raise RuntimeError("a failed forward")
        assert torch.get_num_threads() == 2


def test_the_threshold_is_the_first_batch_that_runs_long_on_one_thread(clock: FakeClock) -> None:
    calls: list[tuple[int, int]] = []
    images = {1: 0.002, 2: 0.004, 4: 0.008, 8: 0.015, 16: 0.025, 32: 0.048, 64: 0.13}
    with threads(2):
        assert measure_parallel_from(_costed_forward(clock, images, calls), 64, min_s=0.02) == 16
        assert torch.get_num_threads() == 2, "the count is restored"
    assert {n for n, _ in calls} == {1, 2, 4, 8, 16}, "sizes stop at the first long one"
    assert {t for _, t in calls} == {1}, "only one-thread forwards are timed"


def test_forwards_short_at_every_size_never_share_the_threads(clock: FakeClock) -> None:
    texts = {1: 0.0008, 2: 0.0009, 4: 0.001, 8: 0.0015, 16: 0.002, 32: 0.004, 48: 0.005}
    # The largest batch is tried even when it is not a power of two.
    assert measure_parallel_from(_costed_forward(clock, texts, []), 48, min_s=0.02) == 49
    assert measure_parallel_from(_costed_forward(clock, texts, []), 48, min_s=0.005) == 48


def test_a_slow_model_shares_the_threads_from_one_item(clock: FakeClock) -> None:
    calls: list[tuple[int, int]] = []
    assert measure_parallel_from(_costed_forward(clock, {1: 0.2}, calls), 64, min_s=0.02) == 1
    assert {n for n, _ in calls} == {1}


def test_a_plan_picks_threads_by_kind_and_size() -> None:
    plan = ThreadPlan(2, {"text": 65, "image": 16})
    assert plan.threads_for("text", 64) == 1
    assert plan.threads_for("image", 15) == 1
    assert plan.threads_for("image", 16) == 2


def test_forwards_run_on_the_planned_threads_and_give_the_same_vectors(
    checkpoint: Path, reference: ViClip, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = ModelRunner(reference, resolve_dtype("float32", reference.device))
    seen: list[int] = []
    encode_text = reference.encode_text

    def spy(texts: list[str]) -> torch.Tensor:
        seen.append(torch.get_num_threads())
        return encode_text(texts)

    texts = [f"hai ngôi sao màu vàng {i}" for i in range(8)]
    side = reference.image_size
    pixels = [torch.rand(3, side, side) for _ in range(8)]
    with threads(2):
        runner.plan = ThreadPlan(2, {"text": 1, "image": 1})
        parallel = runner.encode_texts(texts), runner.encode_pixels(pixels)
        runner.plan = ThreadPlan(2, {"text": 9, "image": 9})
        serial = runner.encode_texts(texts), runner.encode_pixels(pixels)
        monkeypatch.setattr(reference, "encode_text", spy)
        runner.encode_texts(texts[:1])
        runner.plan = ThreadPlan(2, {"text": 1, "image": 1})
        runner.encode_texts(texts[:1])
        assert torch.get_num_threads() == 2, "the count is restored after each forward"
    assert seen == [1, 2]
    for a, b in zip(parallel, serial, strict=True):
        assert np.array_equal(a, b), "one thread or two, the same bits"


def test_the_service_plans_threads_at_start_up_from_its_settings(checkpoint: Path) -> None:
    with threads(2):
        runner = load_runner(EncoderSettings(model=str(checkpoint)), None)
        assert runner.plan is not None and runner.plan.threads == 2
        assert runner.info().parallel_from == runner.plan.parallel_from
        for kind in ("text", "image"):
            assert 1 <= runner.plan.parallel_from[kind] <= EncoderSettings().effective_max_batch + 1
        # A threshold below any forward: every forward shares the threads, as with no plan.
        eager = load_runner(EncoderSettings(model=str(checkpoint), parallel_min_ms=1e-6), None)
        assert eager.plan == ThreadPlan(2, {"text": 1, "image": 1})
        assert load_runner(EncoderSettings(model=str(checkpoint), parallel_min_ms=0), None).plan is None
    with threads(1):
        assert load_runner(EncoderSettings(model=str(checkpoint)), None).plan is None
