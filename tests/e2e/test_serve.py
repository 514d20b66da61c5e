"""`tandem serve` in a subprocess: a conversation through /try, kill -9, restart, resume."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.server import Server, post, replies, sid

CONSENT = "Would you like to join? Reply YES to agree or NO if not."
NAME = "Welcome! What name would you like me to call you?"
TIME = "What time of day suits you for a short daily check-in? For example 9am or 7:30pm."


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_kill_9_mid_onboarding_resumes_at_the_same_step(
    db_url: str, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    server = Server(db_url, tmp_path / "serve.log")
    try:
        await server.start()
        api = f"{server.url}/try/api/messages"
        assert (await post(http, api, {"session": sid("kim"), "text": "hello"}))[0] == 202
        assert (await replies(http, server.url, "kim", 3))[-1] == CONSENT
        assert (await post(http, api, {"session": sid("kim"), "text": "yes"}))[0] == 202
        assert (await replies(http, server.url, "kim", 4))[-1] == NAME
        server.kill()

        await server.start()  # same database, a new process
        status, body = await post(http, api, {"session": sid("kim"), "text": "Kim"})
        assert status == 202 and not body["duplicate"]
        assert (await replies(http, server.url, "kim", 5))[-1] == TIME
        await post(http, api, {"session": sid("kim"), "text": "9am"})
        texts = await replies(http, server.url, "kim", 6)
        assert texts[5].startswith("Thanks, Kim! I'll check in each day at 09:00.")
    finally:
        server.stop()


async def test_sigterm_stops_cleanly(
    db_url: str, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    server = Server(db_url, tmp_path / "serve.log")
    try:
        await server.start()
        await post(http, f"{server.url}/try/api/messages", {"session": sid("lee"), "text": "hi"})
        await replies(http, server.url, "lee", 3)
        assert server.terminate() == 0
        log = (tmp_path / "serve.log").read_text()
        assert '"event": "stopped"' in log
        assert '"text"' not in log and "lee" not in log
    finally:
        server.stop()


async def test_no_coach_accounts_warns_at_start_and_readyz_says_so(
    db_url: str, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    # An on-call phone but no SMS channel to text it: an error at start-up as well.
    server = Server(db_url, tmp_path / "serve.log", TANDEM_ONCALL_PHONE="+14155550100")
    try:
        await server.start()
        async with http.get(f"{server.url}/readyz") as resp:
            assert resp.status == 200
            body = await resp.json()
        assert body["status"] == "ready"
        assert body["coaches"] == "none" and body["oncall_phone"] is True
        assert any("no coach accounts" in w for w in body["warnings"])
        assert any("no SMS channel" in w for w in body["warnings"])
        lines = (tmp_path / "serve.log").read_text().splitlines()
        warned = [line for line in lines if '"event": "no_coach_accounts"' in line]
        unreachable = [line for line in lines if '"event": "oncall_phone_unreachable"' in line]
        assert len(warned) == 1 and '"level": "warning"' in warned[0]
        assert len(unreachable) == 1 and '"level": "error"' in unreachable[0]
    finally:
        server.stop()
