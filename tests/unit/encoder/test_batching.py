"""Micro-batching: concurrent items share forwards, limits hold, failures reach every caller."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client import CollectorRegistry

from services.common.errors import ApiError
from services.encoder.batching import MicroBatcher
from services.encoder.metrics import EncoderMetrics


class Doubler:
    """A forward that records its batch sizes and takes a while, as a model does."""

    def __init__(self, delay_s: float = 0.02, fail_on: int | None = None) -> None:
        self.sizes: list[int] = []
        self.delay_s = delay_s
        self.fail_on = fail_on
        self.threads: set[str] = set()

    def __call__(self, items: list[int]) -> list[int]:
        self.threads.add(threading.current_thread().name)
        self.sizes.append(len(items))
        time.sleep(self.delay_s)
        if self.fail_on is not None and self.fail_on in items:
            raise RuntimeError("forward failed")
        return [2 * x for x in items]


@pytest.fixture
async def executor() -> AsyncIterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(1, thread_name_prefix="model")
    yield pool
    pool.shutdown(wait=True)


def _batcher(
    forward: Doubler,
    executor: ThreadPoolExecutor,
    *,
    max_batch: int = 8,
    max_wait_s: float = 0.01,
    max_queue: int = 100,
) -> tuple[MicroBatcher[int, int], EncoderMetrics]:
    metrics = EncoderMetrics(CollectorRegistry())
    batcher = MicroBatcher(
        "text", forward, executor, metrics, max_batch=max_batch, max_wait_s=max_wait_s, max_queue=max_queue
    )
    batcher.start()
    return batcher, metrics


async def test_concurrent_requests_share_forwards_and_keep_their_order(executor: ThreadPoolExecutor) -> None:
    forward = Doubler()
    batcher, metrics = _batcher(forward, executor, max_batch=8)
    results = await asyncio.gather(*(batcher.submit([i, 100 + i]) for i in range(20)))
    await batcher.stop()
    assert results == [[2 * i, 200 + 2 * i] for i in range(20)]
    assert sum(forward.sizes) == 40 and max(forward.sizes) == 8
    assert len(forward.sizes) <= 6  # 40 items in batches of at most 8: 5 full ones, maybe one partial
    assert forward.threads == {"model_0"}  # never on the event loop
    assert metrics.batch_size.labels("text")._sum.get() == 40


async def test_batching_off_runs_every_item_alone(executor: ThreadPoolExecutor) -> None:
    forward = Doubler(delay_s=0)
    batcher, _ = _batcher(forward, executor, max_batch=1)
    assert await asyncio.gather(*(batcher.submit([i]) for i in range(10))) == [[2 * i] for i in range(10)]
    await batcher.stop()
    assert forward.sizes == [1] * 10


async def test_a_lone_item_waits_at_most_max_wait(executor: ThreadPoolExecutor) -> None:
    batcher, _ = _batcher(Doubler(delay_s=0), executor, max_wait_s=0.05)
    start = time.perf_counter()
    assert await batcher.submit([3]) == [6]
    elapsed = time.perf_counter() - start
    await batcher.stop()
    assert 0.04 <= elapsed < 1.0


async def test_without_a_wait_the_next_batch_is_what_queued_during_the_forward(
    executor: ThreadPoolExecutor,
) -> None:
    forward = Doubler(delay_s=0.2)
    batcher, _ = _batcher(forward, executor, max_batch=8, max_wait_s=0)
    first = asyncio.create_task(batcher.submit([1]))
    await asyncio.sleep(0.05)  # the lone item is in its forward already: nothing waited for company
    assert forward.sizes == [1]
    rest = [asyncio.create_task(batcher.submit([i, 10 + i])) for i in range(2, 5)]
    assert await first == [2]
    assert await asyncio.gather(*rest) == [[2 * i, 20 + 2 * i] for i in range(2, 5)]
    await batcher.stop()
    assert forward.sizes == [1, 6]  # the three requests that came during the first forward share one


async def test_once_forwards_are_shared_the_next_one_waits_a_little_for_company(
    executor: ThreadPoolExecutor,
) -> None:
    forward = Doubler(delay_s=0.4)
    batcher, _ = _batcher(forward, executor, max_batch=8, max_wait_s=0)
    assert await asyncio.gather(batcher.submit([1]), batcher.submit([2])) == [[2], [4]]  # one shared forward
    first = asyncio.create_task(batcher.submit([3]))
    await asyncio.sleep(0.02)  # well inside a quarter of the last forward's 0.4 s
    second = asyncio.create_task(batcher.submit([4]))
    assert await asyncio.gather(first, second) == [[6], [8]]
    await batcher.stop()
    assert forward.sizes == [2, 2]


async def test_a_full_queue_refuses_the_whole_request_before_queuing_it(executor: ThreadPoolExecutor) -> None:
    forward = Doubler(delay_s=0.2)
    batcher, metrics = _batcher(forward, executor, max_batch=2, max_queue=4)
    first = asyncio.create_task(batcher.submit([1, 2, 3, 4]))
    await asyncio.sleep(0.05)  # two items in the forward, two waiting
    with pytest.raises(ApiError) as err:
        await batcher.submit([5, 6, 7])
    assert err.value.status == 503 and err.value.code == "overloaded"
    assert err.value.headers == {"Retry-After": "1"}
    assert await first == [2, 4, 6, 8]
    assert metrics.rejected.labels("text", "overloaded")._value.get() == 3
    await batcher.stop()
    assert sum(forward.sizes) == 4  # the refused items never reached a forward


async def test_a_failed_forward_fails_its_callers_and_the_worker_keeps_serving(
    executor: ThreadPoolExecutor,
) -> None:
    batcher, _ = _batcher(Doubler(fail_on=13), executor, max_batch=4, max_wait_s=0.05)
    results = await asyncio.gather(batcher.submit([13]), batcher.submit([1]), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)  # both were in the failed batch
    assert await batcher.submit([5]) == [10]
    await batcher.stop()


async def test_a_caller_that_went_away_costs_no_forward(executor: ThreadPoolExecutor) -> None:
    forward = Doubler(delay_s=0.1)
    batcher, _ = _batcher(forward, executor, max_batch=1)
    busy = asyncio.create_task(batcher.submit([1]))
    await asyncio.sleep(0.02)
    gone = asyncio.create_task(batcher.submit([2]))
    await asyncio.sleep(0.02)
    gone.cancel()
    assert await busy == [2]
    assert await batcher.submit([3]) == [6]
    await batcher.stop()
    assert sum(forward.sizes) == 2  # item 2 was never run


async def test_stop_fails_what_is_still_queued(executor: ThreadPoolExecutor) -> None:
    batcher, _ = _batcher(Doubler(delay_s=0.2), executor, max_batch=1)
    tasks = [asyncio.create_task(batcher.submit([i])) for i in range(3)]
    await asyncio.sleep(0.05)
    await batcher.stop()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert any(isinstance(o, ApiError) and o.code == "shutting_down" for o in outcomes)
