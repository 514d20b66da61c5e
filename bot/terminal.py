"""`tandem chat`: a conversation in the terminal through the same pipeline and outbox."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TextIO
from uuid import uuid4

from bot.channels.base import InboundMessage, OutboundMessage
from bot.channels.trychat import NAME, TryChannel
from bot.service import Tandem
from bot.settings import Settings


async def chat(settings: Settings, address: str, stdin: TextIO, stdout: TextIO) -> int:
    """Read the patient's lines from `stdin`, print the bot's replies; stop at end of input."""

    def show(message: OutboundMessage) -> None:
        if message.address == address:
            stdout.write(f"tandem> {message.text}\n")
            stdout.flush()

    tandem = Tandem(settings, channels={NAME: TryChannel(on_send=show)})
    try:
        await tandem.migrate()
        if stdin.isatty():
            stdout.write("Type a message and press Enter (Ctrl-D to quit).\n")
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:
                break
            text = line.strip()
            if not text:
                continue
            await tandem.pipeline.receive(
                InboundMessage(
                    channel=NAME,
                    address=address,
                    text=text,
                    provider_message_id=f"chat-{uuid4()}",
                    received_at=datetime.now(UTC),
                )
            )
            await tandem.dispatcher.drain()
    finally:
        await tandem.close()
    return 0
