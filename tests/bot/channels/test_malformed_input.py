"""Malformed input never gets a 500: every case the attacker tried is a clear 4xx, stores
nothing, and (on SQLite too) creates no patient. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.service import Tandem
from bot.settings import Settings
from tests.bot.channels.conftest import Client, patients
from tests.bot.channels.test_twilio_webhooks import PHONE, SMS, STATUS, post_signed
from tests.fakes.telegram_updates import UpdateFactory
from tests.fakes.twilio import inbound_sms_params, status_callback_params

SECRET = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
NESTED = b'{"update_id": 1, "message": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"


def _deep(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


async def test_twilio_bad_fields_are_400_and_create_no_patient(
    client: Client, service: Tandem
) -> None:
    for sender in ("+1555\x000001", "+1" + "5" * 300, "+1555 0001\n"):
        assert await post_signed(client, SMS, inbound_sms_params(sender, "hi")) == 400
    for sid in ("SM" + "a" * 200, "SM\x00" + "a" * 31, "S"):
        params = inbound_sms_params(PHONE, "hi", message_sid=sid)
        assert await post_signed(client, SMS, params) == 400
    huge = status_callback_params("SM" + "3" * 32, "undelivered", PHONE, error_code="9" * 5000)
    assert await post_signed(client, STATUS, huge) == 400
    assert (
        await post_signed(client, STATUS, status_callback_params("SM" + "4" * 32, "x" * 40, PHONE))
        == 400
    )
    assert await patients(service) == []


async def test_telegram_malformed_updates_are_400(client: Client, service: Tandem) -> None:
    updates = UpdateFactory()

    def text_update(**changes: Any) -> dict[str, Any]:
        update = updates.text_message(42, "hello")
        update["message"].update(changes)
        return update

    no_chat = text_update()
    del no_chat["message"]["chat"]
    callback = updates.callback_query(43, "yes")
    del callback["callback_query"]["from"]
    del callback["callback_query"]["message"]
    long_ids = text_update(message_id=10**200)
    bad = [
        no_chat,
        text_update(text=12345),
        callback,
        long_ids,
        {"update_id": 5, "message": _deep(200)},
    ]
    for update in bad:
        resp = await client.post("/webhooks/telegram", json=update, headers=SECRET)
        assert resp.status == 400, (update, await resp.text())
    resp = await client.post("/webhooks/telegram", data=NESTED, headers=SECRET)
    assert resp.status == 400
    assert await patients(service) == []


async def test_telegram_nul_and_lone_surrogate_are_cleaned_not_500(
    client: Client, service: Tandem
) -> None:
    update = UpdateFactory().text_message(44, "placeholder")
    raw = json.dumps(update).replace("placeholder", "a\\u0000b\\ud800c").encode()
    resp = await client.post("/webhooks/telegram", data=raw, headers=SECRET)
    assert resp.status == 200, await resp.text()
    await service.wait_idle()
    assert len(await patients(service)) == 1


async def test_try_and_rest_malformed_json_is_4xx(settings: Settings, tandem: Tandem) -> None:
    async with TestClient(TestServer(create_app(tandem))) as client:
        for raw in (
            NESTED,
            json.dumps({"session": "s", "text": _deep(100)}).encode(),
            b'{"session": "s", "text": "a\\ud800"}',
            b'{"session": "s", "text": "a\\u0000"}',
            json.dumps({"session": "s", "text": "hi", "id": "i" * 64}).encode(),
        ):
            resp = await client.post("/try/api/messages", data=raw)
            assert 400 <= resp.status < 500, (raw[:60], await resp.text())
        resp = await client.get("/try/api/messages", params={"session": "s", "after": "9" * 21})
        assert resp.status == 422
        headers = {"Authorization": "Bearer tdm_nobody"}
        for raw in (NESTED, b'{"channel": "sms", "address": "\\ud800"}'):
            resp = await client.post("/api/v1/patients", data=raw, headers=headers)
            assert resp.status in (400, 401, 422)
