"""How the local runners stop: stop signals read from a pipe, and children that die with them.

A signal handler that calls `threading.Event.set()` can deadlock: Python runs handlers in
the main thread between bytecodes, so a second SIGTERM (GNU make forwards the one it gets
to its child, and `kill -- -PGID` reaches both) may arrive while that thread is inside
`Event.wait()`, holding the Condition's lock that `set()` then takes again. Here the
interpreter's C-level handler writes each signal's number to a pipe
(`signal.set_wakeup_fd`) and the Python-level handler does nothing, so no handler ever
takes a lock, raises, or cuts a clean-up short; the main thread reads the pipe when it
waits.

Children are started with `PR_SET_PDEATHSIG` (Linux), so the kernel kills them when the
thread that started them dies, even by SIGKILL: no orphan keeps a port after its runner.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import sys
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_PR_SET_PDEATHSIG = 1


class Stopped(Exception):
    """A stop signal arrived while the runner was starting up."""


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """Nothing to do: the signal's number is already on the wake-up pipe."""


class StopSignals:
    """SIGINT and SIGTERM as bytes on a pipe, read by `wait()` and `received()` in the main thread.

    Enter it in the main thread before starting anything; other threads may call `wake()`
    to end a `wait()` early (they write a zero byte, which is no signal).
    """

    def __init__(self, signals: tuple[signal.Signals, ...] = STOP_SIGNALS) -> None:
        self.signals = signals
        self.signum: int | None = None
        self._read_fd = self._write_fd = -1
        self._previous: dict[signal.Signals, Callable[[int, FrameType | None], Any] | int | None] = {}
        self._previous_fd = -1

    def __enter__(self) -> StopSignals:
        self._read_fd, self._write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._previous_fd = signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)
        for sig in self.signals:
            self._previous[sig] = signal.signal(sig, _on_signal)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)  # None: set outside Python
        signal.set_wakeup_fd(self._previous_fd)
        os.close(self._read_fd)
        os.close(self._write_fd)

    def _drain(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while chunk := os.read(self._read_fd, 512):
                for byte in chunk:
                    if byte and self.signum is None:
                        self.signum = byte

    def received(self) -> bool:
        """Whether a stop signal has arrived; never blocks."""
        self._drain()
        return self.signum is not None

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until a stop signal, a `wake()` or the timeout; True once a signal has arrived."""
        if self.signum is None:
            select.select([self._read_fd], [], [], timeout_s)
        return self.received()

    def wake(self) -> None:
        """End a `wait()` in the main thread (from any thread)."""
        with contextlib.suppress(BlockingIOError):  # a full pipe wakes the waiter anyway
            os.write(self._write_fd, b"\0")

    def raise_if_received(self) -> None:
        if self.received():
            raise Stopped(signal.Signals(self.signum).name if self.signum else "stop")


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` asking the kernel to SIGKILL the child when the thread that starts it dies.

    Linux only (None elsewhere). The death signal follows the creating *thread*, so start
    children from a thread that lives as long as they should (the main thread). If the
    parent died between fork and `prctl`, the child kills itself at once.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec
