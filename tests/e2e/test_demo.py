"""`make demo`'s own start-up path on a clean folder (ready line, a real search, a clean stop),
and `make demo` stopped by signals to its process group at every stage of its life."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from deploy.harness.fullstack import REPO
from deploy.stack import free_port


def test_demo_starts_searches_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DEMO_IMAGES": "80"}
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deploy.demo",
            "--data-dir",
            str(tmp_path / "demo"),
            "--port",
            str(port),
            "--auth",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    url = key = None
    try:
        deadline = time.monotonic() + 300
        assert proc.stdout is not None
        while time.monotonic() < deadline and url is None:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Tìm Ảnh is ready: "):
                url = line.split(": ", 1)[1].strip()
        assert url == f"http://127.0.0.1:{port}", "".join(lines[-30:])
        key_line = proc.stdout.readline()
        assert key_line.startswith("API key: "), key_line
        key = key_line.split(": ", 1)[1].strip()
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 4

        with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=30) as api:
            collections = api.get("/api/v1/collections").json()["items"]
            assert [c["image_count"] for c in collections] == [80]
            found = api.post("/api/v1/search", json={"query": "hai ngôi sao màu vàng", "top_k": 5}).json()
            assert len(found["results"]) == 5 and found["partial"] is False
            assert httpx.get(url + found["results"][0]["thumbnail_url"]).status_code == 200
            assert api.get("/").status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert proc.returncode == 0
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, [p.pid for p in alive]


# `make demo` stopped by SIGTERM to its whole process group, round after round. GNU make
# forwards the SIGTERM it gets to the runner, so every group signal reaches the runner
# twice; `signals` > 1 sends the group more in quick succession. `phase` is when:
# `early` (a delay after launch: make, imports, spawning), `spawned` (the four services
# exist, still starting), `listening` (their ports answer, readiness pending) or `ready`.
# `kill` SIGKILLs the runner instead: its children must die with it (PR_SET_PDEATHSIG).
# Only the first round generates and indexes the images; the others reuse its data folder.
@dataclass(frozen=True)
class StopRound:
    phase: str
    signals: int = 1
    delay_s: float = 0.0
    kill: bool = False


STOP_ROUNDS = [
    StopRound("ready", signals=2),
    StopRound("early", signals=2, delay_s=0.2),
    StopRound("spawned"),
    StopRound("early", delay_s=1.0),
    StopRound("spawned", signals=2),
    StopRound("spawned", kill=True),
    StopRound("early", signals=3, delay_s=0.6),
    StopRound("listening", signals=2),
    StopRound("early", signals=2, delay_s=2.0),
    StopRound("spawned", signals=3),
    StopRound("listening", kill=True),
    StopRound("early", delay_s=1.5),
]
SERVICES = 4
STOP_DEADLINE_S = 20.0


def _marked(marker: str) -> list[psutil.Process]:
    """Every live process carrying this round's marker in its environment, orphans included."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("TIMANH_STOP_ROUND") == marker and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def _is_runner(proc: psutil.Process) -> bool:
    try:
        return proc.cmdline()[1:3] == ["-m", "deploy.demo"]
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def _listening_ports(procs: list[psutil.Process]) -> set[int]:
    ports = set()
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            ports |= {c.laddr.port for c in proc.net_connections("tcp") if c.status == psutil.CONN_LISTEN}
    return ports


def _port_free(port: int) -> bool:
    """Bindable as the next `make demo` would bind it (uvicorn sets SO_REUSEADDR)."""
    listening = {c.laddr.port for c in psutil.net_connections("tcp") if c.status == psutil.CONN_LISTEN}
    if port in listening:
        return False
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _wait_for(
    what: str,
    check: Callable[[], bool],
    timeout_s: float,
    log: Path,
    alive: Callable[[], bool] = lambda: True,
) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline or not alive():
            output = log.read_text(errors="replace")
            raise AssertionError(f"not {what} within {timeout_s:g} s; output:\n{output}")
        time.sleep(0.05)


def _run_stop_round(number: int, spec: StopRound, data_dir: Path, tmp_path: Path) -> None:
    marker = f"{uuid.uuid4().hex}-{number}"
    port = free_port()
    log = tmp_path / f"round-{number}.log"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env.update(
        TIMANH_STOP_ROUND=marker,
        PYTHONUNBUFFERED="1",
        DEMO_PORT=str(port),
        DEMO_DATA_DIR=str(data_dir),
        DEMO_IMAGES="8",
    )
    with log.open("wb") as out:
        make = subprocess.Popen(
            ["make", "-s", "demo"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    seen: list[psutil.Process] = []
    ports = {port}

    def running() -> bool:
        return make.poll() is None

    def services() -> list[psutil.Process]:
        """The runner's live children (make's own `$(shell …)` helpers are not services)."""
        with contextlib.suppress(psutil.NoSuchProcess):
            found = psutil.Process(make.pid).children(recursive=True)
            seen.extend(p for p in found if p not in seen)
        runners = {p.pid for p in seen if _is_runner(p)}
        children = []
        for proc in seen:
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                if proc.ppid() in runners and proc.status() != psutil.STATUS_ZOMBIE:
                    children.append(proc)
        return children

    try:
        start = time.monotonic()
        if spec.phase == "early":
            _wait_for("launch", lambda: time.monotonic() - start >= spec.delay_s, 10, log)
        elif spec.phase == "spawned":
            _wait_for("four services spawned", lambda: len(services()) >= SERVICES, 60, log, running)
        elif spec.phase == "listening":
            _wait_for(
                "four services listening",
                lambda: len(_listening_ports(services())) >= SERVICES,
                90,
                log,
                running,
            )
        else:
            _wait_for(
                "the ready line",
                lambda: "Tìm Ảnh is ready" in log.read_text(errors="replace"),
                150,
                log,
                running,
            )
        services()
        ports |= _listening_ports(seen)
        if spec.kill:
            [runner] = [p for p in seen if _is_runner(p)]
            runner.kill()
        else:
            for i in range(spec.signals):
                if i:
                    time.sleep(0.02)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(make.pid, signal.SIGTERM)
        _wait_for("make exits", lambda: make.poll() is not None, STOP_DEADLINE_S, log)
        _wait_for("every process of the round gone", lambda: not _marked(marker), STOP_DEADLINE_S, log)
        _wait_for(
            f"ports {sorted(ports)} free", lambda: all(_port_free(p) for p in ports), STOP_DEADLINE_S, log
        )
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(make.pid, signal.SIGKILL)
        make.wait(10)
        for proc in _marked(marker):  # only after a failure: leave nothing for the next test
            proc.kill()
    output = log.read_text(errors="replace")
    if spec.phase in ("ready", "listening"):
        assert len(ports) >= SERVICES, f"round {number}: services never listened: {ports}"
    if not spec.kill:
        assert "Traceback" not in output, f"round {number}:\n{output}"
    if spec.phase == "ready":
        assert "Stopped." in output, output


def test_make_demo_stops_on_every_group_sigterm(frontend_dist: Path, tmp_path: Path) -> None:
    """SIGTERM to `make demo`'s process group, ready or starting, once or several times in
    quick succession, and SIGKILL to its runner: every process and every port is gone each time."""
    assert frontend_dist.is_dir()
    subprocess.run(["make", "-s", "venv"], cwd=REPO, check=True, timeout=600)  # no install inside a round
    data_dir = tmp_path / "demo"
    for number, spec in enumerate(STOP_ROUNDS):
        began = time.monotonic()
        _run_stop_round(number, spec, data_dir, tmp_path)
        print(f"round {number}: {spec} took {time.monotonic() - began:.1f} s")
