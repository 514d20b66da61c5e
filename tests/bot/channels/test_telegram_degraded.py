"""With Telegram configured but its Bot API down, `tandem serve` still starts (SMS, console, API
and probes serve) and registers the webhook in the background once the API answers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.service import Tandem
from bot.settings import Settings
from tests.bot.channels.conftest import patients
from tests.bot.channels.test_twilio_webhooks import PHONE, SMS, post_signed
from tests.fakes import telegram as tg
from tests.fakes.telegram import FakeTelegram
from tests.fakes.twilio import inbound_sms_params


async def test_serving_starts_while_the_bot_api_is_down_and_registers_later(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, clock: Any
) -> None:
    fake_telegram.script(*(tg.server_error("getMe") for _ in range(2)))
    service = Tandem(make_settings(), clock=clock)
    try:
        await service.start_background()  # does not raise
        assert fake_telegram.webhook == {}
        async with TestClient(TestServer(create_app(service))) as client:
            assert (await client.get("/readyz")).status == 200
            assert await post_signed(client, SMS, inbound_sms_params(PHONE, "hi")) == 200
            await service.wait_idle()
            assert len(await patients(service)) == 1
        for _ in range(400):  # retried with backoff (1 s, then 2 s)
            if fake_telegram.webhook:
                break
            await asyncio.sleep(0.025)
        assert fake_telegram.webhook["url"] == "https://tandem.example.org/webhooks/telegram"
    finally:
        await service.close()


async def test_unreachable_bot_api_does_not_stop_start_up(
    make_settings: Callable[..., Settings], clock: Any
) -> None:
    service = Tandem(make_settings(telegram_api_url="http://127.0.0.1:1"), clock=clock)
    try:
        await service.start_background()
        async with TestClient(TestServer(create_app(service))) as client:
            assert (await client.get("/healthz")).status == 200
    finally:
        await service.close()
