"""Where channels hand over what they parsed, and channel lifecycle for one Tandem process.

Every message is stored (committed) before the channel answers its provider; processing continues
in a task the service tracks, so a SIGTERM waits for it and a crash leaves it to the sweeper.
Delivery receipts are recorded here, and an opt-out a provider reports ends the patient's texts.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot import metrics, optout
from bot.channels.base import Channel, InboundMessage, StatusUpdate
from bot.delivery import record_status

if TYPE_CHECKING:
    from bot.service import Tandem


class ServiceInbound:
    """The service's side of `bot.channels.base.Inbound`."""

    def __init__(self, tandem: Tandem) -> None:
        self.tandem = tandem

    def now(self) -> datetime:
        return self.tandem.clock.now()

    async def message(self, message: InboundMessage) -> bool:
        tandem = self.tandem
        receipt = await tandem.pipeline.store(message)
        outcome = "duplicate" if receipt.duplicate else "accepted"
        metrics.INBOUND.labels(message.channel, outcome).inc()
        if receipt.duplicate:
            return False
        tandem.spawn(_timed(tandem, message.channel, receipt.patient_id))
        return True

    async def status(self, update: StatusUpdate) -> None:
        tandem = self.tandem
        async with tandem.db.session() as session, session.begin():
            applied = await record_status(session, update, tandem.clock.now())
        if update.opted_out and applied.patient_id:
            await optout.mark_opted_out(
                tandem.db, tandem.clock, applied.patient_id, "status_callback", update.channel
            )


async def _timed(tandem: Tandem, channel: str, patient_id: str) -> None:
    with metrics.STEP_SECONDS.labels(channel).time():
        await tandem.pipeline.process_patient(patient_id)


async def start_channels(tandem: Tandem, *, background: bool = True) -> None:
    """Recover inbound messages a crash left unprocessed, then start every channel. Without
    `background` (a web-only process) channels only connect: the worker processes receive."""
    if background:
        # Safe beside other live processes: each patient is processed under their lock.
        tandem.spawn(tandem.pipeline.sweep_unprocessed(older_than_seconds=0))
    for channel in tandem.channels.values():
        await channel.start(tandem.inbound, background=background)


async def close_channels(channels: dict[str, Channel]) -> None:
    for channel in channels.values():
        with contextlib.suppress(Exception):
            await channel.close()


def setup(app: web.Application, tandem: Tandem) -> None:
    """Add the webhook routes of every configured channel."""
    for channel in tandem.channels.values():
        app.router.add_routes(channel.routes(tandem.inbound))


async def wait_all(tasks: set[asyncio.Task[Any]], seconds: float) -> None:
    if tasks:
        await asyncio.wait(set(tasks), timeout=seconds)
