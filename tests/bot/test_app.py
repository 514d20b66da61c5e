"""HTTP surface of the foundation: probes, the try-it API, bad input never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.coaching import accounts
from bot.service import Tandem
from tests.e2e.server import sid

Client = TestClient[web.Request, web.Application]
S1 = sid("s-1")


@pytest.fixture
async def client(tandem: Tandem) -> AsyncIterator[Client]:
    async with TestClient(TestServer(create_app(tandem))) as client:
        yield client


async def test_health_and_ready(client: Client) -> None:
    assert (await client.get("/healthz")).status == 200
    resp = await client.get("/readyz")
    assert resp.status == 200 and (await resp.json())["status"] == "ready"


async def test_readyz_says_when_no_coach_can_hear_an_escalation(
    client: Client, tandem: Tandem
) -> None:
    body = await (await client.get("/readyz")).json()
    assert body["coaches"] == "none" and body["oncall_phone"] is False
    assert any("no coach accounts" in w for w in body["warnings"])
    now = tandem.clock.now()
    async with tandem.db.session() as session, session.begin():
        kim = await accounts.create_coach(session, "kim@example.org", "Kim", "coach", now)
        kim.available = False
    body = await (await client.get("/readyz")).json()
    assert body["coaches"] == "unavailable" and body["status"] == "ready"
    async with tandem.db.session() as session, session.begin():
        await accounts.create_coach(session, "lee@example.org", "Lee", "coach", now)
    resp = await client.get("/readyz")
    assert resp.status == 200
    assert await resp.json() == {
        "status": "ready",
        "coaches": "available",
        "oncall_phone": False,
        "warnings": [],
    }


async def test_not_ready_when_migrations_are_pending(settings: object, tmp_path: object) -> None:
    from bot.settings import Settings

    fresh = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/empty.db", try_channel="on")
    service = Tandem(fresh)
    try:
        async with TestClient(TestServer(create_app(service))) as client:
            resp = await client.get("/readyz")
            assert resp.status == 503
            assert "migrations pending" in (await resp.json())["error"]
    finally:
        await service.close()


async def test_try_page_and_conversation(client: Client, tandem: Tandem) -> None:
    page = await client.get("/try")
    assert page.status == 200 and "Try Tandem" in await page.text()
    resp = await client.post("/try/api/messages", json={"session": S1, "text": "hi", "id": "m1"})
    assert resp.status == 202
    again = await client.post("/try/api/messages", json={"session": S1, "text": "hi", "id": "m1"})
    assert again.status == 200 and (await again.json())["duplicate"] is True
    await tandem.dispatcher.drain()
    listed = await (await client.get("/try/api/messages", params={"session": S1})).json()
    directions = [m["direction"] for m in listed["messages"]]
    assert directions == ["in", "out", "out", "out"]
    assert {m["status"] for m in listed["messages"][1:]} == {"sent"}
    empty = await (await client.get("/try/api/messages", params={"session": sid("nobody")})).json()
    assert empty == {"messages": []}


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"{not json", 400, "malformed JSON"),
        (b"\xff\xfe\x00", 400, "malformed JSON"),
        (b"[]", 422, "body"),
        (b'{"session": "' + S1.encode() + b'", "text": ""}', 422, "text"),
        (b'{"session": "bad id!", "text": "hi"}', 422, "session"),
        (b'{"session": "' + S1.encode() + b'"}', 422, "text"),
        (b'{"session": "' + S1.encode() + b'", "text": "hi", "extra": 1}', 422, "extra"),
        (b'{"session": "' + S1.encode() + b'", "text": "' + b"x" * 2001 + b'"}', 422, "text"),
    ],
)
async def test_bad_input_is_a_clear_4xx(
    client: Client, body: bytes, status: int, reason: str
) -> None:
    resp = await client.post(
        "/try/api/messages", data=body, headers={"Content-Type": "application/json"}
    )
    assert resp.status == status
    payload = await resp.json()
    assert payload["status"] == status and reason in payload["error"]


async def test_huge_body_is_413(client: Client) -> None:
    resp = await client.post("/try/api/messages", data=b"x" * 200_000)
    assert resp.status == 413
    assert (await resp.json())["status"] == 413


async def test_emoji_and_right_to_left_text_are_handled(client: Client, tandem: Tandem) -> None:
    for text in ["🙂🙂 hola", "مرحبا", "x" * 2000]:
        resp = await client.post("/try/api/messages", json={"session": sid("rtl"), "text": text})
        assert resp.status == 202


async def test_bad_query_and_unknown_route(
    client: Client,
) -> None:
    assert (
        await client.get("/try/api/messages", params={"session": "a", "after": "x"})
    ).status == 422
    assert (await client.get("/try/api/messages", params={"session": "bad id"})).status == 422
    resp = await client.get("/nope")
    assert resp.status == 404 and (await resp.json())["status"] == 404
