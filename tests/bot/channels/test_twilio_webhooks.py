"""Twilio webhooks on the real app: signatures, store-before-ack, dedup, statuses, bad input."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

import pytest

from bot.service import Tandem
from tests.bot.channels.conftest import PUBLIC_URL, Client, messages, outbox, patients, settle
from tests.fakes.twilio import (
    FakeTwilio,
    inbound_sms_params,
    signed_webhook_headers,
    status_callback_params,
)

SMS = "/webhooks/twilio/sms"
STATUS = "/webhooks/twilio/status"
PHONE = "+15551230001"


async def post_signed(client: Client, path: str, params: dict[str, str], **kw: str) -> int:
    headers = signed_webhook_headers(PUBLIC_URL + path, params)
    headers.update(kw)
    resp = await client.post(path, data=urlencode(params), headers=headers)
    return resp.status


async def test_inbound_is_stored_answered_with_twiml_and_replied(
    client: Client, service: Tandem, fake_twilio: FakeTwilio
) -> None:
    params = inbound_sms_params(PHONE, "hi")
    headers = signed_webhook_headers(PUBLIC_URL + SMS, params)
    resp = await client.post(SMS, data=urlencode(params), headers=headers)
    assert resp.status == 200
    assert resp.content_type == "text/xml"
    assert "<Response></Response>" in await resp.text()
    await settle(service)
    (inbound,) = await messages(service, "in")
    assert (inbound.body, inbound.provider_message_id) == ("hi", params["MessageSid"])
    assert fake_twilio.messages, "onboarding reply sent through the REST API"
    first = fake_twilio.requests[0].data
    assert first["To"] == PHONE and first["From"] == "+15005550006"
    assert first["StatusCallback"] == PUBLIC_URL + STATUS


@pytest.mark.parametrize(
    ("mutate", "status"),
    [
        (lambda h, p: h.pop("X-Twilio-Signature"), 403),
        (lambda h, p: h.__setitem__("X-Twilio-Signature", "Zm9yZ2Vk"), 403),
        (lambda h, p: p.__setitem__("Body", "tampered after signing"), 403),
        (lambda h, p: p.pop("MessageSid"), 403),  # signed set changed: refused before parsing
    ],
    ids=["missing", "wrong", "tampered-body", "dropped-field"],
)
async def test_forged_webhooks_are_refused_and_nothing_is_stored(
    client: Client,
    service: Tandem,
    fake_twilio: FakeTwilio,
    mutate: Callable[[dict[str, str], dict[str, str]], object],
    status: int,
) -> None:
    params = inbound_sms_params(PHONE, "hi")
    headers = signed_webhook_headers(PUBLIC_URL + SMS, params)
    mutate(headers, params)
    resp = await client.post(SMS, data=urlencode(params), headers=headers)
    assert resp.status == status
    assert (await resp.json())["status"] == status
    await settle(service)
    assert await messages(service) == [] and await patients(service) == []
    assert fake_twilio.messages == []


async def test_signature_for_another_url_is_refused(client: Client, service: Tandem) -> None:
    params = inbound_sms_params(PHONE, "hi")
    headers = signed_webhook_headers("https://evil.example.com" + SMS, params)
    assert (await client.post(SMS, data=urlencode(params), headers=headers)).status == 403
    assert await messages(service) == []


async def test_query_string_is_part_of_the_signed_url(client: Client, service: Tandem) -> None:
    params = inbound_sms_params(PHONE, "hi")
    headers = signed_webhook_headers(PUBLIC_URL + SMS + "?clinic=north", params)
    resp = await client.post(SMS + "?clinic=north", data=urlencode(params), headers=headers)
    assert resp.status == 200
    await settle(service)
    assert len(await messages(service, "in")) == 1


async def test_retried_webhook_is_stored_once_and_answered_once(
    client: Client, service: Tandem, fake_twilio: FakeTwilio
) -> None:
    params = inbound_sms_params(PHONE, "hi")
    assert await post_signed(client, SMS, params) == 200
    await settle(service)
    sent = len(fake_twilio.messages)
    assert await post_signed(client, SMS, params) == 200
    await settle(service)
    assert len(await messages(service, "in")) == 1
    assert len(fake_twilio.messages) == sent


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("", "empty"),
        ("😀 ok", "emoji"),
        ("مرحبا، أنا بخير", "rtl"),
        ("x" * 5000, "long"),
        ("line1\nline2\r\n\u0000", "control"),
    ],
)
async def test_unusual_bodies_are_stored_and_handled(
    client: Client, service: Tandem, body: str, kind: str
) -> None:
    params = inbound_sms_params(PHONE, body)
    assert await post_signed(client, SMS, params) == 200
    await settle(service)
    (stored,) = await messages(service, "in")
    assert stored.body == body.replace("\u0000", "")  # NUL dropped: PostgreSQL refuses it
    assert stored.status in ("processed", "failed")


async def test_media_only_message_is_stored(client: Client, service: Tandem) -> None:
    params = inbound_sms_params(PHONE, "")
    params.update({"NumMedia": "1", "MediaUrl0": "https://api.twilio.com/media/ME1"})
    assert await post_signed(client, SMS, params) == 200
    await settle(service)
    assert len(await messages(service, "in")) == 1


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/json", b'{"Body": "hi"}', 400),
        ("application/x-www-form-urlencoded", b"Body=%FF%FE", 403),  # unsigned anyway
        ("application/x-www-form-urlencoded", b"\xff\xfe\x00garbage", 400),
        ("application/x-www-form-urlencoded", b"x=" + b"a" * 70_000, 413),
    ],
    ids=["json", "bad-percent", "non-utf8", "huge"],
)
async def test_malformed_requests_get_a_clear_4xx(
    client: Client, service: Tandem, content_type: str, body: bytes, status: int
) -> None:
    resp = await client.post(SMS, data=body, headers={"Content-Type": content_type})
    assert resp.status == status
    assert (await resp.json())["status"] == status
    assert await messages(service) == []


async def test_signed_but_missing_fields_is_400(client: Client, service: Tandem) -> None:
    params = {"AccountSid": "AC1", "Body": "hi"}
    assert await post_signed(client, SMS, params) == 400
    assert await messages(service) == []


async def test_status_callbacks_are_stored_deduplicated_and_never_move_backwards(
    client: Client, service: Tandem, fake_twilio: FakeTwilio
) -> None:
    assert await post_signed(client, SMS, inbound_sms_params(PHONE, "hi")) == 200
    await settle(service)
    out = await messages(service, "out")
    sid = out[0].provider_message_id
    assert sid and out[0].status == "sent"
    for status in ["delivered", "sent", "queued", "delivered"]:
        assert await post_signed(client, STATUS, status_callback_params(sid, status, PHONE)) == 200
    out = await messages(service, "out")
    assert out[0].status == "delivered"
    from sqlalchemy import select

    from storage.models import DeliveryStatus

    async with service.db.session() as session:
        rows = (await session.execute(select(DeliveryStatus.status))).scalars().all()
    assert sorted(rows) == ["delivered", "queued", "sent"]


async def test_forged_status_callback_is_refused(client: Client, service: Tandem) -> None:
    params = status_callback_params("SM" + "1" * 32, "delivered", PHONE)
    headers = {"X-Twilio-Signature": "x", "Content-Type": "application/x-www-form-urlencoded"}
    resp = await client.post(STATUS, data=urlencode(params), headers=headers)
    assert resp.status == 403


async def test_status_for_unknown_message_is_recorded_without_error(
    client: Client, service: Tandem
) -> None:
    params = status_callback_params("SM" + "2" * 32, "delivered", PHONE)
    assert await post_signed(client, STATUS, params) == 200
    assert await post_signed(client, STATUS, {"AccountSid": "AC1"}) == 400


async def test_status_21610_marks_the_patient_opted_out(client: Client, service: Tandem) -> None:
    assert await post_signed(client, SMS, inbound_sms_params(PHONE, "hi")) == 200
    await settle(service)
    sid = (await messages(service, "out"))[0].provider_message_id or ""
    params = status_callback_params(sid, "undelivered", PHONE, error_code="21610")
    assert await post_signed(client, STATUS, params) == 200
    (patient,) = await patients(service)
    assert patient.status == "opted_out"
    assert all(row.status in ("sent", "cancelled") for row in await outbox(service))
