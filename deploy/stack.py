"""The local stack runner: every service as its own process, stopped together.

`python -m deploy.stack` (or `make up`) starts the encoder, indexer, search service and
gateway on their ports, plus an S3-compatible development server (moto) when no
`STORAGE_S3_ENDPOINT` is configured and `--s3` is asked for, and stops them all on Ctrl-C
or SIGTERM (see `deploy.lifetime`: no lock in a signal handler, children that die with
the runner). Tests start the stack through the same `Stack` class.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import httpx

from deploy.lifetime import Stopped, StopSignals, die_with_parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class ProcessSpec:
    name: str
    argv: list[str]
    port: int
    env: dict[str, str] = field(default_factory=dict)
    health_path: str | None = "/healthz"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Ports:
    gateway: int = 7860
    encoder: int = 8101
    indexer: int = 8102
    search: int = 8103

    @classmethod
    def free(cls) -> Ports:
        return cls(free_port(), free_port(), free_port(), free_port())


def service_specs(
    ports: Ports,
    env: Mapping[str, str] | None = None,
    *,
    indexers: int = 1,
    search_shards: list[list[int]] | None = None,
    shard_count: int | None = None,
) -> list[ProcessSpec]:
    """The four services wired to each other on `ports`; `env` adds shared settings.

    `indexers` starts that many indexer processes (sharing the job queue) and
    `search_shards` one search replica per list of shards, e.g. `[[0, 1], [2, 3]]` of
    `shard_count` 4; the first of each keeps the plain name (`indexer`, `search`).
    """
    py = sys.executable
    base = dict(env or {})
    if shard_count is not None:
        base.update(INDEXER_SHARD_COUNT=str(shard_count), SEARCH_SHARD_COUNT=str(shard_count))
    enc, idx = (f"http://127.0.0.1:{p}" for p in (ports.encoder, ports.indexer))
    searches = []
    for i, shards in enumerate(search_shards or [[]]):
        port = ports.search if i == 0 else free_port()
        shard_env = {"SEARCH_SHARDS": ",".join(map(str, shards))} if shards else {}
        searches.append(
            ProcessSpec(
                "search" if i == 0 else f"search-{i + 1}",
                [py, "-m", "services.search"],
                port,
                {**base, "SEARCH_PORT": str(port), **shard_env},
            )
        )
    indexer_specs = []
    for i in range(indexers):
        port = ports.indexer if i == 0 else free_port()
        indexer_specs.append(
            ProcessSpec(
                "indexer" if i == 0 else f"indexer-{i + 1}",
                [py, "-m", "services.indexer"],
                port,
                {**base, "INDEXER_PORT": str(port), "INDEXER_ENCODER_URL": enc},
            )
        )
    return [
        ProcessSpec(
            "encoder",
            [py, "-m", "services.encoder"],
            ports.encoder,
            {**base, "ENCODER_PORT": str(ports.encoder)},
        ),
        *searches,
        *indexer_specs,
        ProcessSpec(
            "gateway",
            [py, "-m", "gateway"],
            ports.gateway,
            {
                **base,
                "GATEWAY_PORT": str(ports.gateway),
                "GATEWAY_ENCODER_URL": enc,
                "GATEWAY_INDEXER_URL": idx,
                "GATEWAY_SEARCH_URLS": ",".join(s.url for s in searches),
            },
        ),
    ]


def moto_spec(port: int) -> ProcessSpec:
    """An S3-compatible development server (moto's server mode)."""
    return ProcessSpec(
        "s3", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], port, health_path="/"
    )


class Stack:
    """Processes started in order, each waited for, all stopped together (SIGTERM, then SIGKILL).

    Each child leads a process group of its own (so a Ctrl-C reaches only the runner, which
    stops them in turn) and is killed by the kernel if the thread that started it dies.
    """

    def __init__(self, specs: list[ProcessSpec], *, cwd: str | None = None, echo: bool = True) -> None:
        self.specs = specs
        self.cwd = cwd
        self.echo = echo
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, collections.deque[str]] = {}

    def _pump(self, name: str, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        tail = self.logs.setdefault(name, collections.deque(maxlen=40))
        for raw in proc.stdout:
            line = raw.decode(errors="replace")
            tail.append(line)
            if self.echo:
                sys.stderr.write(f"{name:>8} | {line}")

    def start_one(self, spec: ProcessSpec) -> subprocess.Popen[bytes]:
        # A local stack runs on laptop defaults (moto, `minioadmin`): development mode unless told otherwise.
        env = {"TIMANH_DEV": "1", **os.environ, "PYTHONUNBUFFERED": "1", **spec.env}
        proc = subprocess.Popen(
            spec.argv,
            env=env,
            cwd=self.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the runner, which stops each child in turn
            preexec_fn=die_with_parent(),  # and a SIGKILLed runner leaves no orphan holding a port
        )
        self.procs[spec.name] = proc
        threading.Thread(target=self._pump, args=(spec.name, proc), daemon=True).start()
        return proc

    def wait_healthy(
        self, spec: ProcessSpec, timeout_s: float = 60.0, stopped: Callable[[], None] | None = None
    ) -> None:
        """Poll the health route; `stopped` raises (`Stopped`) to abandon the wait."""
        deadline = time.monotonic() + timeout_s
        proc = self.procs[spec.name]
        while time.monotonic() < deadline:
            if stopped is not None:
                stopped()
            if proc.poll() is not None:
                time.sleep(0.2)  # let the pump thread read the last lines
                tail = "".join(self.logs.get(spec.name, ()))
                raise RuntimeError(f"{spec.name} exited with code {proc.returncode} during start-up:\n{tail}")
            if spec.health_path is None:
                return
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(spec.url + spec.health_path, timeout=1.0).status_code < 500:
                    return
            time.sleep(0.1)
        raise TimeoutError(f"{spec.name} did not answer on {spec.url} within {timeout_s:g}s")

    def start(self, timeout_s: float = 60.0, stopped: Callable[[], None] | None = None) -> None:
        try:
            for spec in self.specs:
                self.start_one(spec)
            for spec in self.specs:
                self.wait_healthy(spec, timeout_s, stopped)
        except BaseException:
            self.stop()
            raise

    def stop_one(self, name: str, timeout_s: float = 10.0) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def kill_one(self, name: str) -> None:
        """SIGKILL, as a crash would: no clean shutdown."""
        proc = self.procs.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM to every child's process group at once, SIGKILL to those left at the deadline."""
        procs = [self.procs.pop(name) for name in reversed(list(self.procs))]
        for proc in procs:
            if proc.poll() is None:
                _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for proc in procs:
            try:
                proc.wait(max(deadline - time.monotonic(), 0.0))
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
            _signal_group(proc, signal.SIGKILL)  # anything the child left in its group

    @contextlib.contextmanager
    def running(self, timeout_s: float = 60.0, stopped: Callable[[], None] | None = None) -> Iterator[Stack]:
        self.start(timeout_s, stopped)
        try:
            yield self
        finally:
            self.stop()


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run every Tìm Ảnh service locally.")
    parser.add_argument(
        "--s3", action="store_true", help="start a development S3 server when none is configured"
    )
    parser.add_argument("--s3-port", type=int, default=9000)
    args = parser.parse_args(argv)
    env: dict[str, str] = {}
    specs: list[ProcessSpec] = []
    if args.s3 and not os.environ.get("STORAGE_S3_ENDPOINT"):
        specs.append(moto_spec(args.s3_port))
        env["STORAGE_S3_ENDPOINT"] = f"http://127.0.0.1:{args.s3_port}"
    specs += service_specs(Ports(), env)
    stack = Stack(specs)
    with StopSignals() as stop, contextlib.suppress(Stopped), stack.running(stopped=stop.raise_if_received):
        print(f"Tìm Ảnh stack is up: {specs[-1].url}  (Ctrl-C stops every service)", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
