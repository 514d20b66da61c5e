"""Run `tandem serve` as a real subprocess for end-to-end tests."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

TANDEM = Path(sys.executable).with_name("tandem")


def sid(name: str) -> str:
    """A try-it session id for a test conversation: the API wants a secret of 32+ characters."""
    return f"{name}-{hashlib.sha256(name.encode()).hexdigest()[:40]}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(
        self, db_url: str, log_path: Path, *, args: tuple[str, ...] = (), **env: str
    ) -> None:
        self.args = args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "TANDEM_DATABASE_URL": db_url,
            "TANDEM_TRY_CHANNEL": "on",
            "TANDEM_PUBLIC_URL": self.url,
            **env,
        }
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self, timeout: float = 90.0) -> None:
        # Returns as soon as /readyz answers; the bound only matters on a busy machine.
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [str(TANDEM), "serve", "--port", str(self.port), *self.args],
            env=self.env,
            stdout=log,
            stderr=log,
        )
        log.close()
        deadline = asyncio.get_running_loop().time() + timeout
        async with aiohttp.ClientSession() as http:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
                try:
                    async with http.get(f"{self.url}/readyz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(self.log_path.read_text()[-2000:])
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def terminate(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


class Worker:
    """`tandem worker` as a subprocess; up once its log says so."""

    def __init__(self, db_url: str, log_path: Path, **env: str) -> None:
        self.env = {**os.environ, "TANDEM_DATABASE_URL": db_url, "TANDEM_TRY_CHANNEL": "on", **env}
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self, timeout: float = 90.0) -> None:
        # Returns as soon as /readyz answers; the bound only matters on a busy machine.
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(TANDEM), "worker"], env=self.env, stdout=log, stderr=log
            )
        deadline = asyncio.get_running_loop().time() + timeout
        while '"event": "working"' not in self.log_path.read_text():
            if self.proc.poll() is not None or asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"worker did not start: {self.log_path.read_text()[-2000:]}")
            await asyncio.sleep(0.1)

    def terminate(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


async def post(http: aiohttp.ClientSession, url: str, body: Any) -> tuple[int, Any]:
    async with http.post(url, json=body) as resp:
        return resp.status, await resp.json()


async def replies(
    http: aiohttp.ClientSession, base: str, session: str, count: int, timeout: float = 15.0
) -> list[str]:
    """Wait until the try-it session has at least `count` bot messages; return them all."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with http.get(f"{base}/try/api/messages", params={"session": sid(session)}) as resp:
            data = await resp.json()
        out = [m["text"] for m in data["messages"] if m["direction"] == "out"]
        sent = [m for m in data["messages"] if m["direction"] == "out" and m["status"] == "sent"]
        if len(sent) >= count:
            return out
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"only {len(sent)} of {count} replies: {out}")
        await asyncio.sleep(0.1)
