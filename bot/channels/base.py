"""The one Protocol every channel adapter implements, and Tandem's own channel-neutral events.

Provider details (Twilio form fields, Telegram update JSON) never travel past `bot/channels/`:
adapters turn them into these types on the way in and turn `OutboundMessage` into a provider call on
the way out. An adapter knows nothing of storage, flows or the service: it hands what it parsed to
an `Inbound` the service gives it, and `bot/channels/registry.py` lists every adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from aiohttp import web


@dataclass(frozen=True)
class Choice:
    """A quick-reply option: shown as a button where the channel has them, as text elsewhere."""

    label: str
    value: str


@dataclass(frozen=True)
class InboundMessage:
    """A patient's message, as every channel reports it."""

    channel: str  # "sms", "telegram", "try"
    address: str  # E.164 number, Telegram chat id, try-it session id
    text: str
    provider_message_id: str | None
    received_at: datetime
    # Button press data (Telegram callback query) when the patient tapped a choice.
    payload: str | None = None


@dataclass(frozen=True)
class StatusUpdate:
    """A delivery receipt for a message Tandem sent."""

    channel: str
    provider_message_id: str
    status: str  # queued, sent, delivered, undelivered, failed, read
    error_code: str | None = None
    # The provider says the recipient opted out or blocked Tandem (Twilio 21610, ...).
    opted_out: bool = False


@dataclass(frozen=True)
class OutboundMessage:
    outbox_id: int
    patient_id: str
    channel: str
    address: str
    text: str
    choices: tuple[Choice, ...] = ()
    urgent: bool = False
    # An alert to a coach's or the on-call phone (no patient): failure hooks never see it.
    staff: bool = False


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str | None
    segments: int | None = None


class SendError(Exception):
    """A failed send. `permanent` errors are never retried; others are, with backoff."""

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        code: str | None = None,
        opted_out: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        self.code = code
        self.opted_out = opted_out


class Inbound(Protocol):
    """Where an adapter hands what it parsed: the service stores it before the adapter answers
    the provider, so nothing acknowledged is lost."""

    def now(self) -> datetime:
        """The service's clock (injected, so tests replay exactly)."""
        ...

    async def message(self, message: InboundMessage) -> bool:
        """Store (committed) and schedule processing; False for a duplicate."""
        ...

    async def status(self, update: StatusUpdate) -> None:
        """Record a delivery receipt (and an opt-out it signals)."""
        ...


class Sender(Protocol):
    """What the outbox dispatcher needs of a channel."""

    name: str

    async def send(self, message: OutboundMessage) -> SendResult: ...


class Channel(Sender, Protocol):
    """One provider end to end: its webhook routes, parsing into Tandem's events, sending."""

    def routes(self, inbound: Inbound) -> Sequence[web.RouteDef]:
        """The provider's webhook routes; each stores through `inbound` before answering."""
        ...

    async def start(self, inbound: Inbound, *, background: bool) -> None:
        """Connect (and, with `background`, receive by polling or register a webhook)."""
        ...

    async def close(self) -> None: ...
