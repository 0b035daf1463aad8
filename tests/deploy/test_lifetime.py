"""The runners' stop mechanism on its own: signal bursts end a wait once, and a SIGKILLed
runner's children die with it (`deploy.lifetime`). `tests/e2e/test_demo.py` runs it under
`make demo`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import psutil

from tests.deploy.helpers import REPO

WAITER = """
import time
from deploy.lifetime import StopSignals
with StopSignals() as stop:
    print("waiting", flush=True)
    stop.wait()
    print("stopped", stop.signum, flush=True)
    time.sleep(0.5)  # more signals arrive during the clean-up
    print("cleaned up", flush=True)
"""

RUNNER = """
import sys, time
from deploy.stack import ProcessSpec, Stack
sleeper = ProcessSpec("sleeper", [sys.executable, "-c", "import time; time.sleep(120)"], 0, health_path=None)
stack = Stack([sleeper])
stack.start()
print(stack.procs["sleeper"].pid, flush=True)
time.sleep(120)
"""


def _python(code: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _poll(check: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_burst_of_stop_signals_ends_the_wait_once_and_spares_the_clean_up() -> None:
    proc = _python(WAITER)
    assert proc.stdout is not None
    try:
        assert proc.stdout.readline() == "waiting\n"
        for _ in range(10):  # bursts: each pair as close together as two kill() calls go
            for sig in (signal.SIGTERM, signal.SIGTERM, signal.SIGINT):
                proc.send_signal(sig)
            time.sleep(0.03)
        out, _ = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0, out
    # Linux delivers pending standard signals lowest number first, so when the waiter is not
    # scheduled between the sends the first burst's SIGINT (2) can win over its SIGTERM (15).
    # Either may end the wait; what matters is that exactly one does, and the clean-up runs.
    first = {f"stopped {int(signal.SIGTERM)}", f"stopped {int(signal.SIGINT)}"}
    lines = out.splitlines()
    assert len(lines) == 2 and lines[0] in first and lines[1] == "cleaned up", out


def test_children_die_with_a_killed_runner() -> None:
    runner = _python(RUNNER)
    assert runner.stdout is not None
    child = psutil.Process(int(runner.stdout.readline()))
    try:
        assert child.is_running()
        assert os.getpgid(child.pid) == child.pid, "the child leads a process group of its own"
        runner.kill()  # SIGKILL: no clean-up code runs in the runner
        runner.wait(10)
        assert _poll(lambda: not child.is_running() or child.status() == psutil.STATUS_ZOMBIE, 5)
    finally:
        if child.is_running():
            child.kill()
