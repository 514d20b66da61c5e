"""The one Protocol every channel adapter implements, and Tandem's own channel-neutral events.

Provider details (Twilio form fields, Telegram update JSON) never travel past `bot/channels/`:
adapters turn them into these types on the way in and turn `OutboundMessage` into a provider call on
the way out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


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
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StatusUpdate:
    """A delivery receipt for a message Tandem sent."""

    channel: str
    provider_message_id: str
    status: str  # queued, sent, delivered, undelivered, failed, read
    error_code: str | None = None


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

    @property
    def idempotency_key(self) -> str:
        return f"tandem-outbox-{self.outbox_id}"


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


class Channel(Protocol):
    """An outbound adapter. Inbound parsing lives in each channel's webhook handler."""

    name: str

    async def send(self, message: OutboundMessage) -> SendResult: ...
