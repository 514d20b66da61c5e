"""The login throttle: atomic under parallel guesses (SQLite and PostgreSQL), keyed by account
as well as client, and X-Forwarded-For believed only from TANDEM_TRUSTED_PROXIES."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.clock import FakeClock
from bot.service import Tandem
from bot.settings import Settings
from flows.library import FlowLibrary
from tests.bot.console.conftest import PASSWORD, Client, Staff, csrf_of
from tests.conftest import BACKEND
from tests.e2e.server import Server


async def _attempt(
    client: Client, email: str, password: str, token: str, forwarded: str | None = None
) -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    response = await client.post(
        "/console/login",
        data={"email": email, "password": password, "csrf": token},
        headers=headers,
        allow_redirects=False,
    )
    return response.status


async def _token(client: Client) -> str:
    return csrf_of(await (await client.get("/console/login")).text())


async def test_forty_parallel_guesses_get_at_most_five_checks(client: Client, staff: Staff) -> None:
    token = await _token(client)
    statuses = await asyncio.gather(
        *(_attempt(client, "kim@example.org", f"guess {n}", token) for n in range(40))
    )
    assert statuses.count(401) <= 5 and statuses.count(429) >= 35, statuses
    assert await _attempt(client, "kim@example.org", PASSWORD, token) == 429


async def test_failures_for_one_coach_do_not_lock_out_another(client: Client, staff: Staff) -> None:
    token = await _token(client)
    for _ in range(5):  # behind a proxy every coach has the same client address
        assert await _attempt(client, "kim@example.org", "wrong wrong", token) == 401
    assert await _attempt(client, "kim@example.org", PASSWORD, token) == 429
    assert await _attempt(client, "lee@example.org", PASSWORD, token) == 303


async def test_forwarded_for_is_believed_only_from_trusted_proxies(
    db_url: str, staff: Staff, clock: FakeClock, library: FlowLibrary
) -> None:
    for trusted, kim_elsewhere in (("127.0.0.0/8, ::1", 303), ("", 429)):
        settings = Settings(database_url=db_url, try_channel="on", trusted_proxies=trusted)
        service = Tandem(settings, clock=clock, library=library)
        try:
            async with TestClient(TestServer(create_app(service))) as client:
                token = await _token(client)
                kim = "kim@example.org"
                for _ in range(5):
                    assert await _attempt(client, kim, "x" * 12, token, "203.0.113.5") == 401
                assert await _attempt(client, kim, PASSWORD, token, "203.0.113.5") == 429
                other = await _attempt(client, kim, PASSWORD, token, "198.51.100.7")
                assert other == kim_elsewhere
        finally:
            await service.close()
        clock.advance(timedelta(minutes=16))


@pytest.mark.skipif(BACKEND != "postgres", reason="several processes need PostgreSQL")
@pytest.mark.timeout(180)
async def test_forty_parallel_guesses_across_three_processes(
    db_url: str, staff: Staff, tmp_path: Path
) -> None:
    servers = [Server(db_url, tmp_path / f"serve{n}.log") for n in range(3)]
    token = "t" * 43  # the login form's double-submit token: cookie and field must match
    try:
        await asyncio.gather(*(server.start(timeout=90) for server in servers))
        async with aiohttp.ClientSession() as http:

            async def guess(n: int) -> int:
                url = servers[n % 3].url + "/console/login"
                async with http.post(
                    url,
                    data={"email": "kim@example.org", "password": f"guess {n}", "csrf": token},
                    headers={"Cookie": f"tandem_console_login={token}"},
                    allow_redirects=False,
                ) as response:
                    return response.status

            statuses = await asyncio.gather(*(guess(n) for n in range(40)))
    finally:
        for server in servers:
            server.stop()
    assert statuses.count(401) <= 5 and statuses.count(429) >= 35, statuses
