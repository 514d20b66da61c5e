"""The try-it channel: a conversation is bound to an unguessable secret in an HttpOnly cookie
(or given explicitly), no one else can read or write it, the database keeps only its hash, and
new conversations and messages are rate-limited. Off by default in the Docker image."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import create_app
from bot.service import Tandem
from storage.models import ChannelIdentity, Patient
from tests.e2e.server import sid

Client = TestClient[web.Request, web.Application]


async def test_cookie_bound_conversation_cannot_be_read_by_others(tandem: Tandem) -> None:
    app = create_app(tandem)
    async with (
        TestClient(TestServer(app)) as alice,
        TestClient(TestServer(create_app(tandem))) as eve,
    ):
        page = await alice.get("/try")
        cookie = page.headers["Set-Cookie"]
        assert "tandem_try=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        resp = await alice.post("/try/api/messages", json={"text": "hello, secret stuff"})
        assert resp.status == 202
        secret = (await resp.json())["session"]
        assert len(secret) >= 32
        await tandem.dispatcher.drain()
        mine = await (await alice.get("/try/api/messages")).json()
        assert [m["direction"] for m in mine["messages"]][:2] == ["in", "out"]

        # Eve has no cookie: she gets her own empty conversation, and cannot name Alice's.
        assert (await eve.get("/try/api/messages")).status == 422
        assert (await eve.get("/try/api/messages", params={"session": "web-1"})).status == 422
        await eve.get("/try")
        theirs = await (await eve.get("/try/api/messages")).json()
        assert theirs == {"messages": []}
    async with tandem.db.session() as session:
        addresses = list((await session.execute(select(ChannelIdentity.address))).scalars())
    assert addresses and secret not in addresses[0]  # only a hash of the secret is stored


async def test_messages_and_new_conversations_are_rate_limited(tandem: Tandem) -> None:
    per_minute = tandem.settings.try_messages_per_minute
    per_client = tandem.settings.try_sessions_per_client
    async with TestClient(TestServer(create_app(tandem))) as client:
        session = sid("busy")
        statuses = [
            (
                await client.post("/try/api/messages", json={"session": session, "text": f"m{n}"})
            ).status
            for n in range(per_minute + 1)
        ]
        assert statuses[:-1] == [202] * per_minute and statuses[-1] == 429
        new = []
        for _ in range(per_client + 1):
            client.session.cookie_jar.clear()
            new.append((await client.post("/try/api/messages", json={"text": "hi"})).status)
        assert new[-1] == 429 and new.count(202) == per_client - 1  # "busy" was the first
        explicit = [
            (
                await client.post("/try/api/messages", json={"session": sid(f"x{n}"), "text": "hi"})
            ).status
            for n in range(3)
        ]
        assert explicit == [429] * 3  # naming new sessions does not get round the limit


def test_docker_image_keeps_the_try_channel_off() -> None:
    dockerfile = (Path(__file__).resolve().parents[2] / "Dockerfile").read_text()
    assert "TANDEM_TRY_CHANNEL=off" in dockerfile


async def test_start_over_ends_the_conversation_and_issues_a_new_one(tandem: Tandem) -> None:
    async with TestClient(TestServer(create_app(tandem))) as client:
        await client.get("/try")
        first = await client.post("/try/api/messages", json={"text": "hello"})
        old = (await first.json())["patient_id"]
        await tandem.dispatcher.drain()
        opening = [
            m["text"] for m in (await (await client.get("/try/api/messages")).json())["messages"]
        ]

        restarted = await client.post("/try/api/restart")
        assert restarted.status == 200
        body = await restarted.json()
        assert body["ended"] is True and len(body["session"]) >= 32
        assert "tandem_try=" in restarted.headers["Set-Cookie"]
        # The new conversation is empty, and its first message begins from the start again.
        assert (await (await client.get("/try/api/messages")).json()) == {"messages": []}
        second = await client.post("/try/api/messages", json={"text": "hello"})
        assert (await second.json())["patient_id"] != old
        await tandem.dispatcher.drain()
        again = [
            m["text"] for m in (await (await client.get("/try/api/messages")).json())["messages"]
        ]
        assert again == opening

        # Nothing to end without a conversation; a malformed body is refused with the reason.
        client.session.cookie_jar.clear()
        fresh = await client.post("/try/api/restart")
        assert fresh.status == 200 and (await fresh.json())["ended"] is False
        bad = await client.post("/try/api/restart", json={"session": "short"})
        assert bad.status == 422 and "session" in await bad.text()
        assert (await client.post("/try/api/restart", data=b"{")).status == 400
    async with tandem.db.session() as session:
        patient = await session.get(Patient, old)
    assert patient is not None and patient.status == "discharged"
