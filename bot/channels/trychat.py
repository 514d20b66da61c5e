"""The try-it channel: a web chat at /try and `tandem chat`, so anyone can use Tandem with no
provider credentials. Replies are "delivered" the moment the dispatcher hands them over; the web
page reads them back from the message table."""

from __future__ import annotations

from collections.abc import Callable

from bot.channels.base import OutboundMessage, SendResult

NAME = "try"
MAX_TEXT = 2000


class TryChannel:
    name = NAME

    def __init__(self, on_send: Callable[[OutboundMessage], None] | None = None) -> None:
        self._on_send = on_send

    async def send(self, message: OutboundMessage) -> SendResult:
        if self._on_send is not None:
            self._on_send(message)
        return SendResult(provider_message_id=f"try-{message.outbox_id}")
