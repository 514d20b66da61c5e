"""Outgoing SMS with the real twilio library against FakeTwilio: requests, outcomes, failures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest

from bot.channels.base import OutboundMessage, SendError
from bot.channels.twilio import TwilioChannel
from bot.clock import FakeClock
from bot.service import Tandem
from bot.settings import Settings
from tests.bot.channels.conftest import PUBLIC_URL, outbox, patients
from tests.fakes import twilio as tw
from tests.fakes._server import Outcome
from tests.fakes.twilio import FakeTwilio
from tests.helpers import say

TO = "+15551230001"


def item(text: str, outbox_id: int = 1) -> OutboundMessage:
    return OutboundMessage(outbox_id, "p1", "sms", TO, text)


@pytest.fixture
async def channel(make_settings: Callable[..., Settings]) -> AsyncIterator[TwilioChannel]:
    sms = TwilioChannel(make_settings(send_timeout=0.5))
    yield sms
    await sms.close()


async def test_send_posts_normalised_text_with_status_callback(
    channel: TwilioChannel, fake_twilio: FakeTwilio
) -> None:
    result = await channel.send(item("It’s “fine” — really…"))
    (request,) = fake_twilio.requests
    assert request.data == {
        "To": TO,
        "From": "+15005550006",
        "Body": 'It\'s "fine" - really...',
        "StatusCallback": PUBLIC_URL + "/webhooks/twilio/status",
    }
    assert result.provider_message_id == fake_twilio.messages[0]["sid"]
    assert result.segments == 1


async def test_messaging_service_is_used_when_no_number_is_set(
    make_settings: Callable[..., Settings], fake_twilio: FakeTwilio
) -> None:
    sms = TwilioChannel(make_settings(twilio_from_number="", twilio_messaging_service_sid="MG1"))
    try:
        await sms.send(item("hi"))
    finally:
        await sms.close()
    data = fake_twilio.requests[0].data
    assert data["MessagingServiceSid"] == "MG1" and "From" not in data


async def test_long_text_goes_out_in_order_in_parts_of_at_most_1600(
    channel: TwilioChannel, fake_twilio: FakeTwilio
) -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(120))
    result = await channel.send(item(text))
    bodies = [m["body"] for m in fake_twilio.messages]
    assert len(text) > 3200 and len(bodies) == 3 and all(len(b) <= 1600 for b in bodies)
    assert " ".join(bodies) == text and bodies[0].endswith(".")
    assert result.part_ids == tuple(m["sid"] for m in fake_twilio.messages)
    assert result.segments == sum(int(m["num_segments"]) for m in fake_twilio.messages)


@pytest.mark.parametrize(
    ("outcome", "permanent", "opted_out", "code", "retry_after"),
    [
        (tw.server_error(), False, False, "20500", None),
        (tw.rate_limited(7), False, False, "20429", 7.0),
        (tw.unsubscribed_recipient(), True, True, "21610", None),
        (tw.invalid_to_number(), True, False, "21211", None),
        (tw.twilio_error(20003, "Authenticate", 401), False, False, "20003", None),
    ],
    ids=["500", "429", "21610", "21211", "401"],
)
async def test_provider_errors_map_to_send_errors(
    channel: TwilioChannel,
    fake_twilio: FakeTwilio,
    outcome: Outcome,
    permanent: bool,
    opted_out: bool,
    code: str,
    retry_after: float | None,
) -> None:
    fake_twilio.script(outcome)
    with pytest.raises(SendError) as info:
        await channel.send(item("hi"))
    error = info.value
    assert (error.permanent, error.opted_out, error.code) == (permanent, opted_out, code)
    assert error.retry_after == retry_after


async def test_timeout_is_enforced_and_retryable(
    channel: TwilioChannel, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.script(tw.slow(3))
    with pytest.raises(SendError) as info:
        await channel.send(item("hi"))
    assert not info.value.permanent and "in time" in info.value.reason


async def test_check_verifies_credentials(
    channel: TwilioChannel, make_settings: Callable[..., Settings]
) -> None:
    assert await channel.check() == "Tandem test account"
    wrong = TwilioChannel(make_settings(twilio_auth_token="wrong"))
    try:
        with pytest.raises(Exception, match="Authenticate"):
            await wrong.check()
    finally:
        await wrong.close()


# --- through the dispatcher -------------------------------------------------------------


async def test_retry_after_server_error_keeps_order(
    service: Tandem, fake_twilio: FakeTwilio, clock: FakeClock
) -> None:
    fake_twilio.script(tw.server_error())
    await say(service, "hi", channel="sms", address=TO, mid="SMa")
    await service.dispatcher.drain()
    assert fake_twilio.messages == []  # first reply failed; the second must wait for it
    rows = await outbox(service)
    assert rows[0].status == "pending" and rows[0].attempts == 1
    assert all(r.attempts == 0 for r in rows[1:])
    clock.advance(timedelta(minutes=5))
    await service.dispatcher.drain()
    sent = [m["body"] for m in fake_twilio.messages]
    assert sent == [r.body for r in rows]  # every reply, in queue order


async def test_21610_marks_opted_out_and_cancels_the_rest(
    service: Tandem, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.script(tw.unsubscribed_recipient())
    await say(service, "hi", channel="sms", address=TO, mid="SMb")
    await service.dispatcher.drain()
    (patient,) = await patients(service)
    assert patient.status == "opted_out"
    rows = await outbox(service)
    assert rows[0].status == "failed" and "21610" in (rows[0].last_error or "")
    assert {r.status for r in rows[1:]} == {"cancelled"}
    assert fake_twilio.messages == []


async def test_rows_past_the_horizon_fail_visibly(
    service: Tandem, fake_twilio: FakeTwilio, clock: FakeClock
) -> None:
    await say(service, "hi", channel="sms", address=TO, mid="SMc")
    for _ in range(3):
        fake_twilio.script(tw.server_error())
    await service.dispatcher.drain()
    clock.advance(timedelta(hours=25))
    await service.dispatcher.drain()
    rows = await outbox(service)
    assert rows[0].status == "failed"
