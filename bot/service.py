"""Wires one Tandem process together: database, flows, pipeline, dispatcher, background jobs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.channels.base import Channel
from bot.channels.trychat import TryChannel
from bot.clock import Clock, SystemClock
from bot.outbox import Dispatcher, DispatcherConfig
from bot.pipeline import Pipeline
from bot.settings import Settings
from flows.library import FlowLibrary
from storage import migrate
from storage.db import Database

log = structlog.get_logger("tandem.service")


class Tandem:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        channels: Mapping[str, Channel] | None = None,
        library: FlowLibrary | None = None,
        dispatcher_config: DispatcherConfig | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.db = Database(settings.database_url)
        self.library = library or FlowLibrary.load()
        if channels is None:
            channels = {"try": TryChannel()} if settings.try_channel_enabled else {}
        self.dispatcher = Dispatcher(self.db, channels, self.clock, dispatcher_config)
        self.pipeline = Pipeline(
            self.db, self.library, settings, self.clock, on_outbox=self.dispatcher.wake
        )
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._scheduler: AsyncIOScheduler | None = None

    async def migrate(self) -> None:
        await migrate.upgrade(self.db)

    async def sweep(self) -> None:
        """Periodic housekeeping: due timeouts, messages stored but never processed."""
        try:
            await self.pipeline.fire_timeouts()
            await self.pipeline.sweep_unprocessed()
        except Exception:
            log.exception("sweep_failed")

    async def start_background(self, sweep_seconds: float = 5.0) -> None:
        self._stop.clear()
        self._tasks.append(asyncio.create_task(self.dispatcher.run(self._stop)))
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.add_job(
            self.sweep, "interval", seconds=sweep_seconds, max_instances=1, coalesce=True
        )
        self._scheduler.start()

    async def stop_background(self) -> None:
        self._stop.set()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=10)
        self._tasks.clear()

    async def close(self) -> None:
        await self.stop_background()
        await self.db.close()
