"""A PostgreSQL server for tests and benchmarks, and throwaway databases on it.

The machine's server on 127.0.0.1:5432 when it answers with trust authentication as `postgres`
(a CI box, a developer's laptop), else a private one: `initdb` and `pg_ctl` (Debian puts them in
`/usr/lib/postgresql/*/bin`) in a temporary folder, on a free port, stopped and removed at the end.
Each user of it makes databases with random names and drops them when done.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg

from deploy.stack import free_port

SHARED = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def _binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None)
    if found is None:
        raise RuntimeError(f"{name} is not installed (apt-get install postgresql)")
    return found


def _as_server_user(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: under root, the server runs as the `postgres` user."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@contextlib.contextmanager
def private_postgres() -> Iterator[str]:
    """A server of its own on a free port; yields the URL of its `postgres` database."""
    workdir = Path(tempfile.mkdtemp(prefix="pg-"))
    data, port = workdir / "data", free_port()
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
    user = "postgres"
    subprocess.run(
        _as_server_user([_binary("initdb"), "-D", str(data), "-U", user, "-A", "trust", "-E", "UTF8"]),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
    ctl = _binary("pg_ctl")
    subprocess.run(
        _as_server_user([ctl, "-D", str(data), "-o", options, "-l", str(workdir / "log"), "-w", "start"]),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        yield f"postgresql://{user}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_server_user([ctl, "-D", str(data), "-m", "fast", "-w", "stop"]), check=False)
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """The admin URL of a running server: the machine's when it answers, else a private one."""
    if postgres_answers(SHARED):
        yield SHARED
        return
    with private_postgres() as url:
        yield url


@contextlib.contextmanager
def database(admin_url: str, prefix: str = "timanh") -> Iterator[str]:
    """A new, empty database with a random name on the server; dropped afterwards.
    Yields its SQLAlchemy URL (psycopg 3)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
