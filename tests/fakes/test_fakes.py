"""The real twilio library against FakeTwilio (python-telegram-bot: test_fakes_telegram.py)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.fakes import twilio as tw
from tests.fakes._server import Outcome
from tests.fakes.twilio import FakeTwilio, twilio_client

# twilio 9.x passes aiohttp.BasicAuth as `auth=` on every async request; aiohttp 3.14 deprecates
# both. Harmless, but `filterwarnings = error` would turn them into failures.
pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:BasicAuth is deprecated:DeprecationWarning:twilio.http.async_http_client"
    ),
    pytest.mark.filterwarnings(
        "ignore:The 'auth' parameter is deprecated:DeprecationWarning:twilio.base.client_base"
    ),
]

TO = "+15551230001"
FROM = "+15005550006"


@pytest.fixture
async def fake_twilio() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as fake:
        yield fake


@pytest.fixture
async def twilio(fake_twilio: FakeTwilio) -> AsyncIterator[Client]:
    client, http = twilio_client(fake_twilio)
    try:
        yield client
    finally:
        await http.close()


async def test_twilio_client_ignores_region_env(
    fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_REGION", "ie1")
    client, http = twilio_client(fake_twilio)
    try:
        await client.messages.create_async(to=TO, from_=FROM, body="hi")
    finally:
        await http.close()
    assert len(fake_twilio.messages) == 1


async def test_twilio_create_message(fake_twilio: FakeTwilio, twilio: Client) -> None:
    message = await twilio.messages.create_async(
        to=TO, from_=FROM, body="Hi “there”", status_callback="https://tandem.test/sms/status"
    )
    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid)
    assert message.status == "queued"
    assert message.num_segments == "1"
    assert message.to == TO
    assert message.from_ == FROM
    assert message.account_sid == fake_twilio.account_sid
    assert message.date_created is not None
    (request,) = fake_twilio.requests
    assert request.path == f"/2010-04-01/Accounts/{tw.ACCOUNT_SID}/Messages.json"
    assert request.data == {
        "To": TO,
        "From": FROM,
        "Body": "Hi “there”",
        "StatusCallback": "https://tandem.test/sms/status",
    }
    assert fake_twilio.messages[0]["sid"] == message.sid


async def test_twilio_segments_and_messaging_service(
    fake_twilio: FakeTwilio, twilio: Client
) -> None:
    message = await twilio.messages.create_async(
        to=TO, messaging_service_sid="MG" + "1" * 32, body="😀" * 36
    )
    assert message.num_segments == "2"
    assert message.status == "accepted"
    assert message.messaging_service_sid == "MG" + "1" * 32
    assert "From" not in fake_twilio.requests[0].data


async def test_twilio_wrong_credentials(fake_twilio: FakeTwilio) -> None:
    http = AsyncTwilioHttpClient()
    client = Client(tw.ACCOUNT_SID, "wrong-token", http_client=http)
    client.api.base_url = fake_twilio.url
    fake_twilio.script(tw.server_error())
    try:
        with pytest.raises(TwilioRestException) as info:
            await client.messages.create_async(to=TO, from_=FROM, body="x")
    finally:
        await http.close()
    assert (info.value.status, info.value.code) == (401, 20003)
    assert fake_twilio.messages == []
    assert fake_twilio.pending_outcomes == 1  # rejected requests don't consume outcomes


@pytest.mark.parametrize(
    ("outcome", "status", "code"),
    [
        (tw.unsubscribed_recipient(), 400, 21610),
        (tw.invalid_to_number(), 400, 21211),
        (tw.server_error(), 500, 20500),
        (tw.rate_limited(7), 429, 20429),
    ],
)
async def test_twilio_scripted_errors(
    fake_twilio: FakeTwilio, twilio: Client, outcome: Outcome, status: int, code: int
) -> None:
    fake_twilio.script(outcome)
    with pytest.raises(TwilioRestException) as info:
        await twilio.messages.create_async(to=TO, from_=FROM, body="hello")
    assert (info.value.status, info.value.code) == (status, code)
    assert fake_twilio.messages == []
    # The outcome applied once; the next request succeeds.
    await twilio.messages.create_async(to=TO, from_=FROM, body="hello")
    assert len(fake_twilio.messages) == 1


async def test_twilio_rate_limit_sends_retry_after(fake_twilio: FakeTwilio) -> None:
    # TwilioRestException drops response headers, so check the wire directly.
    fake_twilio.script(tw.rate_limited(7))
    url = f"{fake_twilio.url}/2010-04-01/Accounts/{tw.ACCOUNT_SID}/Messages.json"
    headers = {"Authorization": aiohttp.encode_basic_auth(tw.ACCOUNT_SID, tw.AUTH_TOKEN)}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data={"To": TO, "From": FROM, "Body": "x"}, headers=headers) as resp,
    ):
        assert resp.status == 429
        assert resp.headers["Retry-After"] == "7"
        assert (await resp.json())["code"] == 20429


async def test_twilio_validation_errors(twilio: Client) -> None:
    with pytest.raises(TwilioRestException) as info:
        await twilio.messages.create_async(to="12345", from_=FROM, body="x")
    assert info.value.code == 21211
    with pytest.raises(TwilioRestException) as info:
        await twilio.messages.create_async(to=TO, from_=FROM, body="x" * 1601)
    assert info.value.code == 21617
    with pytest.raises(TwilioRestException) as info:
        await twilio.messages.create_async(to=TO, body="x")
    assert info.value.code == 21603


async def test_twilio_timeout_needs_caller_deadline(
    fake_twilio: FakeTwilio, twilio: Client
) -> None:
    # AsyncTwilioHttpClient ignores its own `timeout` argument (it passes timeout=None to
    # aiohttp per request), so callers must impose a deadline themselves.
    fake_twilio.script(tw.slow(5))
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await twilio.messages.create_async(to=TO, from_=FROM, body="slow")
    assert len(fake_twilio.requests) == 1


async def test_slow_success_still_creates_message(fake_twilio: FakeTwilio, twilio: Client) -> None:
    fake_twilio.script(tw.slow(0.1))
    message = await twilio.messages.create_async(to=TO, from_=FROM, body="late")
    assert fake_twilio.messages[0]["sid"] == message.sid


def test_signed_webhook_validates() -> None:
    url = "https://tandem.test/sms/inbound?x=1"
    params = tw.inbound_sms_params(from_=TO, body="STOP")
    headers = tw.signed_webhook_headers(url, params)
    validator = RequestValidator(tw.AUTH_TOKEN)
    assert validator.validate(url, params, headers["X-Twilio-Signature"])
    assert not validator.validate(url, {**params, "Body": "START"}, headers["X-Twilio-Signature"])
    assert not RequestValidator("other").validate(url, params, headers["X-Twilio-Signature"])
    status = tw.status_callback_params("SM" + "a" * 32, "undelivered", to=TO, error_code="30003")
    assert validator.validate(url, status, tw.sign_webhook(url, status))
    assert status["ErrorCode"] == "30003"
