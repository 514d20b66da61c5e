"""Helpers the benchmarks share: databases, subprocess servers, a bounded HTTP load loop."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import Database

PG_ADMIN = os.environ.get(
    "TANDEM_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _admin(statement: str) -> None:
    db = Database(PG_ADMIN)
    try:
        async with db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(statement))
    finally:
        await db.close()


async def fresh_database(backend: str, workdir: Path) -> tuple[str, Callable[[], Any]]:
    """A new empty database URL and an async cleanup for it."""
    if backend == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.db"

        async def drop_file() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

        return f"sqlite+aiosqlite:///{path}", drop_file
    name = f"tandem_bench_{uuid.uuid4().hex[:8]}"
    await _admin(f'CREATE DATABASE "{name}"')

    async def drop_db() -> None:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False), drop_db


def terminate(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not stopped within 30 s."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Process:
    """A server subprocess that is up once `ready_path` answers 200."""

    def __init__(self, args: list[str], env: dict[str, str], port: int, ready_path: str) -> None:
        self.args, self.env, self.port, self.ready_path = args, env, port, ready_path
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    async def __aenter__(self) -> Process:
        # The server's log goes to a file: a pipe nobody reads blocks the server once it fills.
        self.log = tempfile.NamedTemporaryFile(prefix="bench-", suffix=".log")  # noqa: SIM115
        self.proc = subprocess.Popen(
            self.args,
            env={**os.environ, **self.env},
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        deadline = time.monotonic() + 90
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(Path(self.log.name).read_text()[-2000:])
                try:
                    async with http.get(self.url + self.ready_path) as resp:
                        if resp.status == 200:
                            return self
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.args} did not become ready")

    async def __aexit__(self, *exc: object) -> None:
        assert self.proc is not None
        terminate(self.proc)
        self.log.close()

    def pids(self) -> list[int]:
        """The process and its children (`serve --workers N`)."""
        assert self.proc is not None
        return [self.proc.pid, *children(self.proc.pid)]

    def rss_mb(self) -> float:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


async def load(
    url: str,
    bodies: Callable[[int, int], dict[str, Any]],
    *,
    clients: int,
    per_client: int,
) -> tuple[float, list[float]]:
    """`clients` concurrent senders, each posting `per_client` bodies in order.

    Returns (requests per second, per-request latencies in seconds). Bounded in count and time.
    """
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def client(c: int) -> None:
            nonlocal errors
            for i in range(per_client):
                started = time.perf_counter()
                async with http.post(url, json=bodies(c, i)) as resp:
                    await resp.read()
                    if resp.status >= 400:
                        errors += 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(client(c) for c in range(clients))), timeout=600)
        elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{errors} requests failed")
    return len(latencies) / elapsed, latencies


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Worker:
    """A `tandem worker` process (needs TANDEM_LOG_LEVEL=info to see it ready)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.log = tempfile.NamedTemporaryFile(prefix="bench-worker-", suffix=".log")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [str(Path(python()).with_name("tandem")), "worker", "--no-migrate"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )

    async def ready(self) -> None:
        deadline = time.monotonic() + 90
        while '"event": "working"' not in Path(self.log.name).read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(Path(self.log.name).read_text()[-2000:])
            await asyncio.sleep(0.1)

    def stop(self) -> None:
        terminate(self.proc)
        self.log.close()


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU seconds the processes have used so far (gone ones count 0)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            # Fields after the command name, which may itself hold spaces: utime is the 12th.
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def postgres_pids() -> list[int]:
    """Every PostgreSQL server process on this machine (the postmaster and its backends)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


class CpuMeter:
    """CPU seconds used between `start` and `stop` by the server, PostgreSQL and this process
    (the load client): where a benchmark's time goes on a machine they all share."""

    def __init__(self, server: Process, workers: list[Worker] | None = None) -> None:
        self.server, self.workers = server, workers or []
        self.used: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        times = os.times()
        now = {"server": cpu_seconds(self.server.pids())}
        if self.workers:
            now["worker"] = cpu_seconds([w.proc.pid for w in self.workers])
        now["postgres"] = cpu_seconds(postgres_pids())
        now["client"] = times.user + times.system
        return now

    def start(self) -> None:
        self.used = self._now()

    def stop(self) -> None:
        now = self._now()
        self.used = {name: now[name] - self.used[name] for name in now}

    def per_message_ms(self, messages: int) -> dict[str, float]:
        return {name: round(1000 * used / messages, 2) for name, used in self.used.items()}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def python() -> str:
    return sys.executable
