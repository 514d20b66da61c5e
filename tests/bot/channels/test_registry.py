"""Adding a channel is one folder plus one registry line: the loopback channel in
tests/bot/channels/loopback/ goes through Tandem end to end with nothing else changed."""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import create_app
from bot.channels import registry
from bot.clock import FakeClock
from bot.service import Tandem
from bot.settings import Settings
from storage.models import DeliveryStatus, Message
from tests.bot.channels.conftest import settle
from tests.bot.channels.loopback import LoopbackChannel

LOOPBACK = Path(__file__).parent / "loopback"


@pytest.fixture
async def tandem(
    db_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Tandem]:
    monkeypatch.setattr(registry, "MODULES", [*registry.MODULES, "tests.bot.channels.loopback"])
    service = Tandem(Settings(database_url=db_url, try_channel="off"), clock=clock)
    yield service
    await service.close()


def _loopback(tandem: Tandem) -> LoopbackChannel:
    channel = tandem.channels["loopback"]
    assert isinstance(channel, LoopbackChannel)
    return channel


async def test_a_registered_channel_receives_replies_and_records_receipts(tandem: Tandem) -> None:
    async with TestClient(TestServer(create_app(tandem))) as client:
        resp = await client.post(
            "/webhooks/loopback", json={"id": "m1", "from": "al", "text": "hi"}
        )
        assert resp.status == 200 and await resp.json() == {"stored": True}
        again = await client.post(
            "/webhooks/loopback", json={"id": "m1", "from": "al", "text": "hi"}
        )
        assert await again.json() == {"stored": False}  # deduplicated on the provider's id
        await settle(tandem)
        sent = _loopback(tandem).sent
        assert sent and all(m.address == "al" and m.channel == "loopback" for m in sent)
        assert "Reply STOP" in sent[0].text  # the opt-in and compliance text, as on SMS

        first = f"lb-{sent[0].outbox_id}"
        status = await client.post(
            "/webhooks/loopback/status", json={"id": first, "status": "delivered"}
        )
        assert status.status == 200
        bad = await client.post("/webhooks/loopback", json={"from": "al"})
        assert bad.status == 400 and "id, text" in await bad.text()
    async with tandem.db.session() as session:
        receipts = (await session.execute(select(DeliveryStatus))).scalars().all()
        assert [(r.provider_message_id, r.status) for r in receipts] == [(first, "delivered")]
        inbound = (
            await session.execute(select(Message).where(Message.direction == "in"))
        ).scalars()
        assert [(m.channel, m.body) for m in inbound] == [("loopback", "hi")]


async def test_channels_start_with_the_service(tandem: Tandem) -> None:
    await tandem.start_web()
    assert _loopback(tandem).started == [False]


def test_the_channel_is_one_folder_importing_only_the_channel_layer() -> None:
    assert [p.name for p in LOOPBACK.iterdir() if p.suffix == ".py"] == ["__init__.py"]
    tree = ast.parse((LOOPBACK / "__init__.py").read_text())
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    } | {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    ours = {m for m in imported if m.split(".")[0] in {"bot", "flows", "storage"}}
    assert ours == {"bot.channels.base"}


def test_two_channels_may_not_share_a_name(monkeypatch: pytest.MonkeyPatch) -> None:
    twice = [*registry.MODULES, "tests.bot.channels.loopback", "tests.bot.channels.loopback"]
    monkeypatch.setattr(registry, "MODULES", twice)
    settings: Any = Settings(database_url="sqlite+aiosqlite:///unused.db", try_channel="off")
    with pytest.raises(ValueError, match="two channels are named 'loopback'"):
        registry.build(settings)
