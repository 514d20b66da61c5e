"""Wires one Tandem process together: database, flows, pipeline, dispatcher, background jobs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import timedelta
from typing import Any

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import datarights, inbound, keywords, optout, worrylog
from bot.chain import Link, Stage
from bot.channels import registry
from bot.channels.base import Channel
from bot.clock import Clock, SystemClock
from bot.coaching import events
from bot.coaching.service import Coaching
from bot.country import country_facts
from bot.menu import menu_interceptor
from bot.outbox import Dispatcher, DispatcherConfig
from bot.pipeline import Pipeline
from bot.scheduling import handlers as scheduling
from bot.scheduling.runner import Scheduler
from bot.settings import Settings
from bot.study.config import load_study
from bot.study.hooks import install as install_study
from flows import safety
from flows.library import FlowLibrary
from storage import migrate
from storage.db import Database

log = structlog.get_logger("tandem.service")
COACHING_TICK_SECONDS = 30.0  # SLA checks and takeover reminders
STOP_GRACE_SECONDS = 20.0
RETENTION_SECONDS = 86_400.0


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
        self.db = Database(
            settings.database_url,
            pool_size=settings.db_pool_size,
            pool_timeout=settings.db_pool_timeout,
        )
        self.library = library or FlowLibrary.load()
        # Live events for this service's console, published after each commit.
        self.bus = events.EventBus()
        events.configure(self.db, self.bus)
        safety.preload()  # a broken lexicon or crisis table fails the start, not a disclosure
        self.channels = dict(registry.build(settings) if channels is None else channels)
        if dispatcher_config is None:
            horizon = timedelta(hours=settings.outbox_horizon_hours)
            lease = timedelta(seconds=settings.outbox_lease_seconds)
            dispatcher_config = DispatcherConfig(horizon=horizon, lease=lease)
        self.dispatcher = Dispatcher(self.db, self.channels, self.clock, dispatcher_config)
        self.pipeline = Pipeline(
            self.db, self.library, settings, self.clock, on_outbox=self.dispatcher.wake
        )
        # Escalations, SLA checks, staff alerts; safety and the coach hold are links below.
        self.inbound = inbound.ServiceInbound(self.pipeline, self.db, self.clock, self.spawn)
        self.coaching = Coaching(settings, self.db, self.clock, self.pipeline, self.dispatcher)
        self.coaching.install()
        scheduling.install(self.pipeline)
        self.scheduler = Scheduler(self.pipeline)
        # TANDEM_STUDY_FILE: allocation at enrolment and micro-randomized decisions (bot/study).
        self.study = load_study(settings.study_file) if settings.study_file else None
        self.study_runner = install_study(self.pipeline, self.study) if self.study else None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._scheduler: AsyncIOScheduler | None = None
        self._ticks: set[asyncio.Task[Any]] = set()
        self.pipeline.fact_providers.append(country_facts)
        # The inbound chain, every link in one place, in the order a message meets them.
        links: list[tuple[Stage, Link]] = [
            (Stage.SAFETY, self.coaching.safety.intercept),
            (Stage.OPT_OUT, optout.OptOutInterceptor(settings)),
            (Stage.KEYWORDS, keywords.KeywordInterceptor(settings)),
            (Stage.TAKEOVER, self.coaching.safety.hold),
            (Stage.COMMANDS, scheduling.commands),
            (Stage.WORRY_LOG, worrylog.worry_log),
            (Stage.MENU, menu_interceptor),
        ]
        for stage, link in links:
            self.pipeline.chain.add(stage, link)
        self.dispatcher.failure_hooks.append(optout.failure_hook(self.db, self.clock))
        # Webhook processing that continues after the 200 (`close` waits for it).
        self._inflight: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run `work` in the background; `close` waits for it to finish."""
        task = asyncio.create_task(_logged(work))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def wait_idle(self) -> None:
        """Wait until no spawned webhook processing is left (tests, shutdown)."""
        while self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)

    async def migrate(self) -> None:
        await migrate.upgrade(self.db)

    async def sweep(self) -> None:
        """Periodic work: due schedules and timeouts, messages stored but never processed."""
        try:
            await self.scheduler.tick()
            if self.study_runner is not None:
                await self.study_runner.tick()
            await self.pipeline.sweep_unprocessed()
        except Exception:
            log.exception("sweep_failed")

    async def purge(self) -> None:
        """TANDEM_RETENTION_DAYS: blank message bodies older than that (daily, and at start)."""
        days = self.settings.retention_days
        if days:
            try:
                count = await datarights.purge_bodies(self.db, self.clock.now(), days)
                log.info("retention_purged", messages=count, days=days)
            except Exception:
                log.exception("retention_failed")

    async def start_background(self, sweep_seconds: float | None = None) -> None:
        sweep_seconds = sweep_seconds or self.settings.scheduler_interval_seconds
        self._stop.clear()
        # Recover inbound messages a crash left unprocessed. Safe beside other live processes:
        # each patient is processed under their lock.
        self.spawn(self.pipeline.sweep_unprocessed(older_than_seconds=0))
        await inbound.start_channels(self.channels, self.inbound, background=True)
        self._tasks.append(asyncio.create_task(self.dispatcher.run(self._stop)))
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._add_job(self.sweep, sweep_seconds)
        self._add_job(self.coaching.tick, COACHING_TICK_SECONDS)
        if self.settings.retention_days:
            self._add_job(self.purge, RETENTION_SECONDS)
            self.spawn(self.purge())
        self._scheduler.start()

    async def start_web(self) -> None:
        """A web-only process (TANDEM_BACKGROUND=off): channels ready to parse webhooks and
        send, no loops; `tandem worker` processes run those."""
        await inbound.start_channels(self.channels, self.inbound, background=False)

    def _add_job(self, job: Callable[[], Awaitable[Any]], seconds: float) -> None:
        """An interval job whose running tick shutdown can wait for (its transaction finishes)."""

        async def tracked() -> None:
            task = asyncio.current_task()
            assert task is not None
            self._ticks.add(task)
            try:
                await job()
            finally:
                self._ticks.discard(task)

        assert self._scheduler is not None
        self._scheduler.add_job(
            tracked, "interval", seconds=seconds, max_instances=1, coalesce=True
        )

    async def stop_background(self) -> None:
        """Stop taking new work, let running ticks and the dispatcher finish (bounded)."""
        self._stop.set()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        running = [*self._ticks, *self._tasks]
        if running:
            _, late = await asyncio.wait(running, timeout=STOP_GRACE_SECONDS)
            for task in late:  # their transactions roll back; another process redoes the work
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        self._tasks.clear()

    async def close(self) -> None:
        await inbound.wait_all(self._inflight, 20)
        await self.stop_background()
        await inbound.close_channels(self.channels)
        await self.db.close()


async def _logged(work: Coroutine[Any, Any, Any]) -> None:
    try:
        await work
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("background_task_failed")
