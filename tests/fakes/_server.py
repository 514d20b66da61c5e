"""Shared plumbing for fake provider servers: a localhost aiohttp app that records requests."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw_body: bytes
    # Decoded body: form fields or JSON object, whichever the client sent.
    data: dict[str, Any]
    match_info: dict[str, str]


@dataclass(frozen=True)
class Outcome:
    """A scripted answer for one upcoming request.

    `delay` seconds pass first; then `status`/`body`/`headers` are sent, or, when `status` is
    None, the request is handled normally (a slow success, as when a provider accepts a message
    after the client has given up).
    """

    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    # Only requests whose `target` matches consume this outcome (None matches every request).
    target: str | None = None


def _file_label(value: web.FileField | bytes | bytearray) -> str:
    name = value.filename if isinstance(value, web.FileField) else "bytes"
    return f"<file {name}>"


class FakeServer:
    """Base for fakes: subclasses fill `self.app` routes. Use as `async with Fake() as fake:`."""

    def __init__(self) -> None:
        self.app = web.Application()
        self.requests: list[RecordedRequest] = []
        self._outcomes: deque[Outcome] = deque()
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self.url = ""

    async def start(self) -> None:
        # A short shutdown timeout: a scripted delay may still be "running" when a test ends.
        self._runner = web.AppRunner(self.app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def close(self) -> None:
        self._closing.set()  # wakes handlers sleeping in a scripted delay
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def script(self, *outcomes: Outcome) -> None:
        """Queue outcomes; each applies to one later request matching its `target`."""
        self._outcomes.extend(outcomes)

    @property
    def pending_outcomes(self) -> int:
        return len(self._outcomes)

    def _take_outcome(self, target: str) -> Outcome | None:
        for outcome in self._outcomes:
            if outcome.target is None or outcome.target == target:
                self._outcomes.remove(outcome)
                return outcome
        return None

    async def _sleep(self, seconds: float) -> None:
        """Sleep that ends early when the server closes, so shutdown never waits on it."""
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), timeout=seconds)

    async def _record(self, request: web.Request) -> RecordedRequest:
        raw = await request.read()
        data: dict[str, Any] = {}
        if request.content_type == "application/json" and raw:
            loaded = await request.json()
            data = loaded if isinstance(loaded, dict) else {"_json": loaded}
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key in form:
                values = form.getall(key)
                # Files in multipart uploads are recorded by name only.
                decoded = [v if isinstance(v, str) else _file_label(v) for v in values]
                data[key] = decoded[0] if len(decoded) == 1 else decoded
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=dict(request.headers),
            raw_body=raw,
            data=data,
            match_info=dict(request.match_info),
        )
        self.requests.append(recorded)
        return recorded
