"""Shutdown: background tasks stop before the resources they use close, and every resource closes."""

from __future__ import annotations

import asyncio

import pytest

from services.common.closing import shut_down


class Resource:
    def __init__(self, name: str, log: list[str], fail: bool = False) -> None:
        self.name, self.log, self.fail = name, log, fail

    async def aclose(self) -> None:
        self.log.append(self.name)
        if self.fail:
            raise RuntimeError(f"{self.name} would not close")


async def test_tasks_stop_first_then_resources_close_in_order() -> None:
    log: list[str] = []

    async def background() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            log.append("task stopped")

    task = asyncio.create_task(background())
    await asyncio.sleep(0)  # let it start
    await shut_down([task], [Resource("queue", log), Resource("store", log)])
    assert task.cancelled()
    assert log == ["task stopped", "queue", "store"]


async def test_a_resource_that_fails_to_close_does_not_keep_the_rest_open(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log: list[str] = []
    await shut_down([], [Resource("cache", log, fail=True), Resource("store", log)])
    assert log == ["cache", "store"]
    assert "closing Resource failed" in caplog.text
