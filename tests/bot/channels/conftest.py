"""Fixtures for channel tests: fake provider servers and a Tandem wired to them over HTTP."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import create_app
from bot.clock import FakeClock
from bot.service import Tandem
from bot.settings import Settings
from storage.models import Message, OutboxItem, Patient
from tests.fakes import telegram as tg
from tests.fakes import twilio as tw
from tests.fakes.telegram import FakeTelegram
from tests.fakes.twilio import FakeTwilio

os.environ.setdefault("PTB_TIMEDELTA", "1")
PUBLIC_URL = "https://tandem.example.org"
FROM_NUMBER = "+15005550006"

Client = TestClient[Any, Any]


@pytest.fixture
async def fake_twilio() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as fake:
        yield fake


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


def channel_settings(
    db_url: str, twilio: FakeTwilio, telegram: FakeTelegram, **extra: Any
) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "public_url": PUBLIC_URL,
        "try_channel": "off",
        "twilio_account_sid": tw.ACCOUNT_SID,
        "twilio_auth_token": tw.AUTH_TOKEN,
        "twilio_from_number": FROM_NUMBER,
        "twilio_api_url": twilio.url,
        "twilio_rate": 0,
        "telegram_bot_token": tg.TOKEN,
        "telegram_webhook_secret": "s3cret-token",
        "telegram_api_url": telegram.url,
        "telegram_rate": 0,
        "telegram_chat_rate": 0,
        "send_timeout": 2.0,
    }
    values.update(extra)
    return Settings(**values)


@pytest.fixture
def make_settings(
    db_url: str, fake_twilio: FakeTwilio, fake_telegram: FakeTelegram
) -> Callable[..., Settings]:
    return lambda **extra: channel_settings(db_url, fake_twilio, fake_telegram, **extra)


@pytest.fixture
async def service(
    make_settings: Callable[..., Settings], clock: FakeClock
) -> AsyncIterator[Tandem]:
    tandem = Tandem(make_settings(), clock=clock)
    yield tandem
    await tandem.close()


@pytest.fixture
async def client(service: Tandem) -> AsyncIterator[Client]:
    async with TestClient(TestServer(create_app(service))) as client:
        yield client


async def settle(tandem: Tandem) -> None:
    """Let background processing finish, then send everything that is due."""
    await tandem.wait_idle()
    await tandem.dispatcher.drain()


async def messages(tandem: Tandem, direction: str | None = None) -> list[Message]:
    async with tandem.db.session() as session:
        query = select(Message).order_by(Message.id)
        if direction:
            query = query.where(Message.direction == direction)
        return list((await session.execute(query)).scalars())


async def outbox(tandem: Tandem) -> list[OutboxItem]:
    async with tandem.db.session() as session:
        return list((await session.execute(select(OutboxItem).order_by(OutboxItem.id))).scalars())


async def patients(tandem: Tandem) -> list[Patient]:
    async with tandem.db.session() as session:
        return list((await session.execute(select(Patient))).scalars())
