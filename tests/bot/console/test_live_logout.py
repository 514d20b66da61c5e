"""The live feed (SSE) ends as soon as its session logs out, and sends nothing after."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.console import live
from bot.service import Tandem
from tests.bot.console.conftest import Staff, login
from tests.bot.console.test_pages import RISK, _patient
from tests.helpers import say


async def test_live_feed_stops_at_logout(tandem: Tandem, staff: Staff) -> None:
    app = create_app(tandem)
    app[live.HEARTBEAT_SECONDS] = 60.0  # the heartbeat's session check is not what ends it
    async with TestClient(TestServer(app)) as client:
        await _patient(tandem, "alice", staff.kim, "Alice")
        csrf = await login(client, "kim@example.org")
        feed = await client.get("/console/events")
        assert feed.status == 200
        await client.post("/console/logout", data={"csrf": csrf}, allow_redirects=False)
        await say(tandem, RISK, address="alice")

        async def rest() -> bytes:
            seen = b""
            while chunk := await feed.content.readany():
                seen += chunk
            return seen

        seen = await asyncio.wait_for(rest(), 5)  # the stream ends by itself
        assert b"event: logout" in seen and b"escalation_opened" not in seen
