"""`tandem chat`: a conversation in the terminal through the same pipeline and outbox.

Its rows go out on the "terminal" channel, which only this process delivers (a server on the
same database leaves them alone), and only this conversation's: two terminals never swallow each
other's replies. After the last line it waits until every reply of the turn has been printed.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TextIO
from uuid import uuid4

from sqlalchemy import select

from bot.channels.base import InboundMessage, OutboundMessage
from bot.channels.trychat import TERMINAL, TerminalChannel
from bot.service import Tandem
from bot.settings import Settings
from bot.startover import start_over
from storage.models import OutboxItem
from storage.statuses import OutboxStatus

# How long the last replies may take to become due (a burst is spaced a little) before giving up.
SETTLE_SECONDS = 30.0


async def _unsent(tandem: Tandem, address: str) -> bool:
    async with tandem.db.session() as session:
        found = await session.scalar(
            select(OutboxItem.id)
            .where(
                OutboxItem.channel == TERMINAL,
                OutboxItem.address == address,
                OutboxItem.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
            )
            .limit(1)
        )
    return found is not None


async def _deliver(tandem: Tandem, address: str) -> None:
    """Send every reply due; wait a little for ones spaced out or held behind an earlier one."""
    deadline = asyncio.get_running_loop().time() + SETTLE_SECONDS
    while True:
        await tandem.dispatcher.drain()
        if not await _unsent(tandem, address):
            return
        if asyncio.get_running_loop().time() > deadline:
            return  # a retrying row: the next line (or run) delivers it
        await asyncio.sleep(0.2)


async def chat(
    settings: Settings, address: str, stdin: TextIO, stdout: TextIO, *, new: bool = False
) -> int:
    """Read the patient's lines from `stdin`, print the bot's replies; stop at end of input.
    `new`: start a fresh conversation at this address (start_over)."""

    def show(message: OutboundMessage) -> None:
        if message.address == address:
            stdout.write(f"tandem> {message.text}\n")
            stdout.flush()

    tandem = Tandem(settings, channels={TERMINAL: TerminalChannel(on_send=show)})
    tandem.dispatcher.only = (TERMINAL, address)
    try:
        await tandem.migrate()
        if new and await start_over(tandem.db, tandem.clock.now(), TERMINAL, address):
            stdout.write("Started a new conversation (the previous one is kept, ended).\n")
        if stdin.isatty():
            stdout.write("Type a message and press Enter (Ctrl-D to quit).\n")
        loop = asyncio.get_running_loop()
        await _deliver(tandem, address)  # anything left from an earlier run
        while True:
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:
                break
            text = line.strip()
            if not text:
                continue
            await tandem.pipeline.receive(
                InboundMessage(
                    channel=TERMINAL,
                    address=address,
                    text=text,
                    provider_message_id=f"chat-{uuid4()}",
                    received_at=datetime.now(UTC),
                )
            )
            await _deliver(tandem, address)
    finally:
        await tandem.close()
    return 0
