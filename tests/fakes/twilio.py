"""A fake Twilio Messages API, plus builders for signed inbound webhooks.

Point the real `twilio` library at it with `twilio_client(fake)` (see there for how).
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from aiohttp import web
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels.sms_text import SMS_MAX_CHARS, count_segments
from tests.fakes._server import FakeServer, Outcome

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "fake-auth-token-0123456789abcdef"
MESSAGES_TARGET = "messages"


def _error_body(code: int, message: str, status: int) -> dict[str, Any]:
    # Twilio's legacy REST error shape, which twilio-python turns into TwilioRestException.
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def twilio_error(code: int, message: str, status: int = 400) -> Outcome:
    return Outcome(status=status, body=_error_body(code, message, status), target=MESSAGES_TARGET)


def unsubscribed_recipient() -> Outcome:
    """Error 21610: the recipient replied STOP; Twilio refuses to message them."""
    return twilio_error(21610, "Attempt to send to unsubscribed recipient")


def invalid_to_number() -> Outcome:
    return twilio_error(21211, "Invalid 'To' Phone Number: +1555NOTANUMBER")


def server_error() -> Outcome:
    return twilio_error(20500, "An internal server error has occurred", status=500)


def rate_limited(retry_after: int = 1) -> Outcome:
    """HTTP 429 (error 20429) with a Retry-After header, as Twilio sends when over its limits."""
    return Outcome(
        status=429,
        body=_error_body(20429, "Too Many Requests", 429),
        headers={"Retry-After": str(retry_after)},
        target=MESSAGES_TARGET,
    )


def slow(seconds: float) -> Outcome:
    """Answer normally, but only after `seconds`; the message is created all the same."""
    return Outcome(delay=seconds, target=MESSAGES_TARGET)


class FakeTwilio(FakeServer):
    """Serves POST /2010-04-01/Accounts/{sid}/Messages.json with HTTP basic auth."""

    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        # Message resources created so far, in order.
        self.messages: list[dict[str, Any]] = []
        self.app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._create_message)
        self.app.router.add_get("/2010-04-01/Accounts/{sid}.json", self._fetch_account)

    def _authorized(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        header = request.headers.get("Authorization", "")
        return secrets.compare_digest(header, f"Basic {expected}") and (
            request.match_info["sid"] == self.account_sid
        )

    async def _fetch_account(self, request: web.Request) -> web.Response:
        """GET Accounts/{sid}.json: what `tandem channels check` uses to verify credentials."""
        await self._record(request)
        if not self._authorized(request):
            return web.json_response(_error_body(20003, "Authenticate", 401), status=401)
        return web.json_response(
            {
                "sid": self.account_sid,
                "friendly_name": "Tandem test account",
                "status": "active",
                "type": "Full",
                "uri": f"/2010-04-01/Accounts/{self.account_sid}.json",
            }
        )

    async def _create_message(self, request: web.Request) -> web.Response:
        recorded = await self._record(request)
        if not self._authorized(request):
            return web.json_response(_error_body(20003, "Authenticate", 401), status=401)
        outcome = self._take_outcome(MESSAGES_TARGET)
        if outcome is not None:
            await self._sleep(outcome.delay)
            if outcome.status is not None:
                return web.json_response(
                    outcome.body, status=outcome.status, headers=outcome.headers
                )
        form = recorded.data
        error = _validate(form)
        if error is not None:
            return web.json_response(error, status=400)
        message = self._message_resource(form)
        self.messages.append(message)
        return web.json_response(message, status=201)

    def _message_resource(self, form: dict[str, Any]) -> dict[str, Any]:
        sid = "SM" + secrets.token_hex(16)
        body = str(form.get("Body", ""))
        now = format_datetime(datetime.now(UTC).replace(microsecond=0), usegmt=False)
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}"
        service = form.get("MessagingServiceSid")
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": str(count_segments(body)[1]),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            # A Messaging Service without a fixed sender first "accepts", then picks a sender.
            "status": "accepted" if service and not form.get("From") else "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": form.get("To"),
            "uri": f"{uri}.json",
        }


def _validate(form: dict[str, Any]) -> dict[str, Any] | None:
    to = str(form.get("To", ""))
    if not to:
        return _error_body(21604, "A 'To' phone number is required.", 400)
    if not (to.startswith("+") and to[1:].isdigit() and 8 <= len(to) <= 16):
        return _error_body(21211, f"Invalid 'To' Phone Number: {to}", 400)
    if not form.get("From") and not form.get("MessagingServiceSid"):
        return _error_body(21603, "A 'From' phone number is required.", 400)
    body = str(form.get("Body", ""))
    if not body:
        return _error_body(21602, "Message body is required.", 400)
    if len(body) > SMS_MAX_CHARS:
        msg = "The concatenated message body exceeds the 1600 character limit."
        return _error_body(21617, msg, 400)
    return None


def twilio_client(fake: FakeTwilio) -> tuple[Client, AsyncTwilioHttpClient]:
    """A real twilio Client whose Messages API calls go to `fake`.

    `client.api` is the `Api` Domain; every resource under it builds its URL from
    `Domain.base_url` ("https://api.twilio.com" by default) via `Domain.absolute_url`, so setting
    `client.api.base_url` is the supported override. `ClientBase.get_hostname` would still
    rewrite the host when an edge/region is set (also read from TWILIO_EDGE / TWILIO_REGION in
    the environment), so both are cleared. The caller must `await http.close()`.
    """
    http = AsyncTwilioHttpClient()
    client = Client(fake.account_sid, fake.auth_token, http_client=http)
    client.edge = None
    client.region = None
    client.api.base_url = fake.url
    return client, http


def sign_webhook(url: str, params: dict[str, str], auth_token: str = AUTH_TOKEN) -> str:
    """The X-Twilio-Signature Twilio would send when POSTing `params` to `url`."""
    signature: str = RequestValidator(auth_token).compute_signature(url, params)
    return signature


def signed_webhook_headers(
    url: str, params: dict[str, str], auth_token: str = AUTH_TOKEN
) -> dict[str, str]:
    """Headers for an inbound webhook POST; send `params` form-encoded to exactly `url`."""
    return {
        "X-Twilio-Signature": sign_webhook(url, params, auth_token),
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "TwilioProxy/1.1",
        "I-Twilio-Idempotency-Token": secrets.token_hex(16),
    }


def inbound_sms_params(
    from_: str,
    body: str,
    to: str = "+15005550006",
    account_sid: str = ACCOUNT_SID,
    message_sid: str | None = None,
) -> dict[str, str]:
    """Form fields of Twilio's incoming-message webhook."""
    sid = message_sid or "SM" + secrets.token_hex(16)
    return {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": body,
        "FromCountry": "US",
        "To": to,
        "MessagingServiceSid": "MG" + "0" * 32,
        "ToZip": "",
        "NumSegments": str(count_segments(body)[1]),
        "MessageSid": sid,
        "AccountSid": account_sid,
        "From": from_,
        "ApiVersion": "2010-04-01",
    }


def status_callback_params(
    message_sid: str,
    status: str,
    to: str,
    from_: str = "+15005550006",
    error_code: str | None = None,
    account_sid: str = ACCOUNT_SID,
) -> dict[str, str]:
    """Form fields of Twilio's StatusCallback request for an outbound message."""
    params = {
        "SmsSid": message_sid,
        "SmsStatus": status,
        "MessageStatus": status,
        "To": to,
        "MessageSid": message_sid,
        "AccountSid": account_sid,
        "From": from_,
        "ApiVersion": "2010-04-01",
    }
    if error_code is not None:
        params["ErrorCode"] = error_code
    return params
