"""The try-it channels, so anyone can use Tandem with no provider credentials: the web chat at
/try ("try") and `tandem chat` ("terminal"). Replies are "delivered" the moment the dispatcher
hands them over; the web page reads them back from the message table, the terminal prints them.
Starting a demo conversation over is the service's (bot/startover.py).

The terminal's rows have a channel of their own because only the terminal process can show
them: a server on the same database must never claim them (bot/outbox.py, PROCESS_LOCAL)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from aiohttp import web

from bot.channels.base import Inbound, OutboundMessage, SendResult

NAME = "try"
TERMINAL = "terminal"
DEMO_CHANNELS = frozenset({NAME, TERMINAL})  # demos, not where patients are
MAX_TEXT = 2000


class TrySettings(Protocol):
    @property
    def try_channel_enabled(self) -> bool: ...


def build(settings: TrySettings) -> TryChannel | None:
    """The web chat when TANDEM_TRY_CHANNEL allows it (the registry calls this)."""
    return TryChannel() if settings.try_channel_enabled else None


class TryChannel:
    name = NAME

    def __init__(self, on_send: Callable[[OutboundMessage], None] | None = None) -> None:
        self._on_send = on_send

    def routes(self, inbound: Inbound) -> Sequence[web.RouteDef]:
        return []  # the /try page and its API are Tandem's own (bot/trypage.py)

    async def start(self, inbound: Inbound, *, background: bool) -> None:
        """Nothing to connect."""

    async def close(self) -> None:
        """Nothing to close."""

    async def send(self, message: OutboundMessage) -> SendResult:
        if self._on_send is not None:
            self._on_send(message)
        return SendResult(provider_message_id=f"try-{message.outbox_id}")


class TerminalChannel(TryChannel):
    name = TERMINAL
