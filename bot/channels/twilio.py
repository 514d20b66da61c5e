"""SMS through Twilio: sending via the twilio library's async client, and the two webhooks.

Inbound (`POST /webhooks/twilio/sms`) and status callbacks (`POST /webhooks/twilio/status`) are
signature-checked with twilio's RequestValidator against TANDEM_PUBLIC_URL + path + query (so it
works behind a TLS-terminating proxy), stored before the 200, and deduplicated on MessageSid.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import parse_qsl

import aiohttp
import structlog
from aiohttp import web
from twilio.base.exceptions import TwilioRestException
from twilio.http import AsyncHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels.base import Inbound, InboundMessage, OutboundMessage, SendError, StatusUpdate
from bot.channels.parts import PartsResult
from bot.channels.sms_text import SMS_MAX_CHARS, count_segments, normalize_gsm, split_text
from bot.channels.throttle import Throttle

log = structlog.get_logger("tandem.twilio")
NAME = "sms"
INBOUND_PATH = "/webhooks/twilio/sms"
STATUS_PATH = "/webhooks/twilio/status"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# Twilio errors meaning "never retry": the number opted out, is invalid, cannot get SMS, ...
OPTED_OUT_CODES = frozenset({21610})
# twilio logs request bodies at DEBUG; bot/logs.py keeps this logger at WARNING or above.
_quiet = logging.getLogger("tandem.twilio.http")


class TwilioSettings(Protocol):
    """The settings this adapter reads (TANDEM_TWILIO_*, TANDEM_PUBLIC_URL, TANDEM_SEND_TIMEOUT)."""

    @property
    def twilio_enabled(self) -> bool: ...

    twilio_account_sid: str
    twilio_auth_token: str
    twilio_from_number: str
    twilio_messaging_service_sid: str
    twilio_api_url: str
    twilio_rate: float
    public_url: str
    send_timeout: float


def build(settings: TwilioSettings) -> TwilioChannel | None:
    """The SMS channel when its credentials are set (the registry calls this)."""
    return TwilioChannel(settings) if settings.twilio_enabled else None


class RateLimited(Exception):
    """HTTP 429 from Twilio, with its Retry-After (TwilioRestException drops the headers)."""

    def __init__(self, retry_after: float | None) -> None:
        super().__init__("rate limited")
        self.retry_after = retry_after


class TwilioHttp(AsyncHttpClient):  # type: ignore[misc]
    """twilio's HTTP client contract on one aiohttp session: sends the Authorization header
    itself (aiohttp 3.14 deprecates `auth=`), enforces a timeout (the stock client ignores it),
    and keeps Retry-After from 429s."""

    def __init__(self, timeout: float) -> None:
        super().__init__(_quiet, True, timeout)
        self._session: aiohttp.ClientSession | None = None

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (twilio's client contract)
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        sent_headers = dict(headers or {})
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            sent_headers["Authorization"] = f"Basic {token}"
        async with (
            asyncio.timeout(timeout or self.timeout),
            self._session.request(
                method.upper(),
                url,
                params={k: str(v) for k, v in (params or {}).items()},
                data=data,
                headers=sent_headers,
                allow_redirects=allow_redirects,
            ) as response,
        ):
            text = await response.text()
        if response.status == 429:
            raise RateLimited(_seconds(response.headers.get("Retry-After")))
        return TwilioResponse(response.status, text, response.headers)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


class TwilioChannel:
    name = NAME

    def __init__(self, settings: TwilioSettings) -> None:
        self.settings = settings
        self.http = TwilioHttp(settings.send_timeout)
        self.client = Client(
            settings.twilio_account_sid, settings.twilio_auth_token, http_client=self.http
        )
        # Pin the API root (a fake or a proxy may stand in) and ignore TWILIO_EDGE/REGION,
        # which would otherwise rewrite the host.
        self.client.edge = None
        self.client.region = None
        self.client.api.base_url = settings.twilio_api_url
        self.validator = RequestValidator(settings.twilio_auth_token)
        self.throttle = Throttle(settings.twilio_rate)
        self.status_callback = settings.public_url + STATUS_PATH

    async def close(self) -> None:
        await self.http.close()

    async def start(self, inbound: Inbound, *, background: bool) -> None:
        """Nothing to connect: Twilio calls Tandem's webhooks and is called per message."""

    def routes(self, inbound: Inbound) -> Sequence[web.RouteDef]:
        async def incoming(request: web.Request) -> web.StreamResponse:
            params = await self.verified_form(request)
            await inbound.message(inbound_message(params, inbound.now()))
            return twiml_ok()

        async def status(request: web.Request) -> web.StreamResponse:
            await inbound.status(status_update(await self.verified_form(request)))
            return twiml_ok()

        return [web.post(INBOUND_PATH, incoming), web.post(STATUS_PATH, status)]

    def _sender(self) -> dict[str, str]:
        if self.settings.twilio_from_number:
            return {"from_": self.settings.twilio_from_number}
        return {"messaging_service_sid": self.settings.twilio_messaging_service_sid}

    async def send(self, message: OutboundMessage) -> PartsResult:
        """Send a text (split at sentence boundaries past 1600 characters); the parts go in
        order, each only after the previous one was accepted."""
        parts = split_text(normalize_gsm(message.text), SMS_MAX_CHARS)
        if not parts:
            raise SendError("empty message", permanent=True)
        ids: list[str] = []
        segments = 0
        for index, part in enumerate(parts):
            if index:
                await self.throttle.acquire(message.address)  # the first part was throttled
            created = await self._create(message.address, part)
            ids.append(str(created.sid))
            segments += count_segments(part)[1]
        return PartsResult(ids[0], segments, tuple(ids))

    async def _create(self, to: str, body: str) -> Any:
        try:
            return await self.client.messages.create_async(
                to=to, body=body, status_callback=self.status_callback, **self._sender()
            )
        except RateLimited as exc:
            reason = "Twilio rate limit (429)"
            raise SendError(reason, retry_after=exc.retry_after, code="20429") from exc
        except TwilioRestException as exc:
            code = str(exc.code) if exc.code is not None else None
            reason = f"Twilio {exc.status} error {code}: {exc.msg}"
            opted_out = exc.code in OPTED_OUT_CODES
            # 4xx are the request's own fault (bad number, opted out) except auth/permission
            # errors, which a corrected configuration can fix before the horizon.
            permanent = 400 <= exc.status < 500 and exc.status not in (401, 403)
            raise SendError(reason, permanent=permanent, code=code, opted_out=opted_out) from exc
        except TimeoutError as exc:
            raise SendError("Twilio did not answer in time") from exc
        except aiohttp.ClientError as exc:
            raise SendError(f"Twilio unreachable: {type(exc).__name__}") from exc

    async def check(self) -> str:
        """Verify the credentials against the API; returns the account's friendly name."""
        sid = self.settings.twilio_account_sid
        account = await self.client.api.v2010.accounts(sid).fetch_async()
        return str(account.friendly_name)

    # --- webhooks -------------------------------------------------------------------------

    async def verified_form(self, request: web.Request) -> dict[str, str]:
        """The form fields of a genuine Twilio webhook, or an HTTP error (403/400/413)."""
        raw = await request.read()  # over TANDEM_MAX_REQUEST_BYTES: 413
        if request.content_type != "application/x-www-form-urlencoded":
            raise web.HTTPBadRequest(text="expected an application/x-www-form-urlencoded body")
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise web.HTTPBadRequest(text="body is not UTF-8") from exc
        params = dict(parse_qsl(body, keep_blank_values=True))
        signature = request.headers.get("X-Twilio-Signature", "")
        url = self.settings.public_url + request.path_qs
        if not signature or not self.validator.validate(url, params, signature):
            log.warning("twilio_signature_rejected", path=request.path)
            raise web.HTTPForbidden(text="missing or invalid X-Twilio-Signature")
        return params


# Twilio's SIDs are two letters and 32 hex digits; a sender is an E.164 number, a short code, an
# alphanumeric id or a "channel:address" (WhatsApp). Anything else is refused before it is stored
# (PostgreSQL refuses NUL and over-long values; SQLite would store them as new patients).
_SID = re.compile(r"^[A-Za-z]{2}[A-Za-z0-9]{1,62}$")
_SENDER = re.compile(r"^[A-Za-z0-9+:._@-]{1,64}$")
_ERROR_CODE = re.compile(r"^[0-9]{1,10}$")


def _sid(params: Mapping[str, str]) -> str:
    sid = params.get("MessageSid", "")
    if not _SID.match(sid):
        raise web.HTTPBadRequest(text="MessageSid: missing or not a Twilio message SID")
    return sid


def inbound_message(params: Mapping[str, str], received_at: datetime) -> InboundMessage:
    sid, sender = _sid(params), params.get("From", "")
    if not _SENDER.match(sender):
        raise web.HTTPBadRequest(text="From: missing or not a phone number or sender id")
    return InboundMessage(
        channel=NAME,
        address=sender,
        # PostgreSQL text cannot hold NUL; nothing a patient means is lost by dropping it.
        text=params.get("Body", "").replace("\x00", ""),
        provider_message_id=sid,
        received_at=received_at,
    )


def status_update(params: Mapping[str, str]) -> StatusUpdate:
    sid = _sid(params)
    status = params.get("MessageStatus") or params.get("SmsStatus", "")
    if not status.isalpha() or len(status) > 16:
        raise web.HTTPBadRequest(text="MessageStatus: missing or not a message status")
    code = params.get("ErrorCode") or None
    if code is not None and not _ERROR_CODE.match(code):
        raise web.HTTPBadRequest(text="ErrorCode: not a Twilio error code")
    opted_out = code is not None and int(code) in OPTED_OUT_CODES
    return StatusUpdate(NAME, sid, status.lower(), code, opted_out=opted_out)


def twiml_ok() -> web.Response:
    return web.Response(text=EMPTY_TWIML, content_type="text/xml")
