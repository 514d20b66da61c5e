"""Where channels hand over what they parsed, and channel lifecycle for one Tandem process.

Every message is stored (committed) before the channel answers its provider; processing continues
in a task the service tracks, so a SIGTERM waits for it and a crash leaves it to the sweeper.
Delivery receipts are recorded here, and an opt-out a provider reports ends the patient's texts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime
from typing import Any

from aiohttp import web

from bot import metrics, optout
from bot.channels.base import Channel, Inbound, InboundMessage, StatusUpdate
from bot.clock import Clock
from bot.delivery import record_status
from bot.pipeline import Pipeline
from storage.db import Database

# Runs work in a task the service tracks (a SIGTERM waits for it).
Spawn = Callable[[Coroutine[Any, Any, Any]], None]


class ServiceInbound:
    """The service's side of `bot.channels.base.Inbound`."""

    def __init__(self, pipeline: Pipeline, db: Database, clock: Clock, spawn: Spawn) -> None:
        self.pipeline, self.db, self.clock, self.spawn = pipeline, db, clock, spawn

    def now(self) -> datetime:
        return self.clock.now()

    async def message(self, message: InboundMessage) -> bool:
        receipt = await self.pipeline.store(message)
        outcome = "duplicate" if receipt.duplicate else "accepted"
        metrics.INBOUND.labels(message.channel, outcome).inc()
        if receipt.duplicate:
            return False
        self.spawn(self._process(message.channel, receipt.patient_id))
        return True

    async def _process(self, channel: str, patient_id: str) -> None:
        with metrics.STEP_SECONDS.labels(channel).time():
            await self.pipeline.process_patient(patient_id)

    async def status(self, update: StatusUpdate) -> None:
        async with self.db.session() as session, session.begin():
            applied = await record_status(session, update, self.clock.now())
        if update.opted_out and applied.patient_id:
            await optout.mark_opted_out(
                self.db, self.clock, applied.patient_id, "status_callback", update.channel
            )


async def start_channels(
    channels: Mapping[str, Channel], inbound: Inbound, *, background: bool
) -> None:
    """Start every channel. Without `background` (a web-only process) channels only connect:
    the worker processes receive."""
    for channel in channels.values():
        await channel.start(inbound, background=background)


async def close_channels(channels: Mapping[str, Channel]) -> None:
    for channel in channels.values():
        with contextlib.suppress(Exception):
            await channel.close()


def setup(app: web.Application, channels: Mapping[str, Channel], inbound: Inbound) -> None:
    """Add the webhook routes of every configured channel."""
    for channel in channels.values():
        app.router.add_routes(channel.routes(inbound))


async def wait_all(tasks: set[asyncio.Task[Any]], seconds: float) -> None:
    if tasks:
        await asyncio.wait(set(tasks), timeout=seconds)
