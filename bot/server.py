"""`tandem serve`, `tandem worker` and `tandem db upgrade`: start-up, graceful shutdown on SIGTERM.

Process model (docs/DEPLOY.md): a web process answers HTTP; a worker process runs the background
loops (dispatcher, scheduler, sweeper, coaching tick). `tandem serve` alone is both. With
`--workers N` (N > 1) a supervisor starts N web-only processes that share the port through
SO_REUSEPORT, and the background loops belong to `tandem worker` processes, on this machine or
others, all coordinated by PostgreSQL (row locks and SKIP LOCKED claims).
"""

from __future__ import annotations

import asyncio
import signal

import structlog
from aiohttp import web

from bot.app import create_app
from bot.service import Tandem
from bot.settings import Settings
from storage import migrate
from storage.db import Database

log = structlog.get_logger("tandem.server")
SHUTDOWN_GRACE_SECONDS = 20.0


async def upgrade_database(settings: Settings) -> None:
    db = Database(settings.database_url)
    try:
        await migrate.upgrade(db)
    finally:
        await db.close()


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def serve(
    settings: Settings,
    host: str,
    port: int,
    *,
    migrate: bool = True,
    background: bool = True,
    reuse_port: bool = False,
) -> None:
    """Serve until SIGTERM/SIGINT: then stop accepting, finish in-flight work, and exit.

    Without `background` this is a web process only (see the module docstring)."""
    tandem = Tandem(settings)
    runner = web.AppRunner(
        create_app(tandem), access_log=None, shutdown_timeout=SHUTDOWN_GRACE_SECONDS
    )
    try:
        if migrate:
            await tandem.migrate()
        await runner.setup()
        await web.TCPSite(runner, host, port, reuse_port=reuse_port or None).start()
        # Once the port is ours (a start-up failure stays one line): no coaches, no on-call SMS.
        await tandem.coaching.startup_check()
        if background:
            await tandem.start_background()
        else:
            await tandem.start_web()
    except BaseException:
        # Release what was opened; the caller prints one line naming the cause.
        await runner.cleanup()
        await tandem.close()
        raise
    stop = _stop_on_signals()
    log.info(
        "serving",
        url=f"http://{host}:{port}",
        background=background,
        try_channel=settings.try_channel_enabled,
        database=settings.database_url.split("://", 1)[0],
    )
    try:
        await stop.wait()
    finally:
        log.info("shutting_down")
        # Closing the runner stops the listener first, then waits for in-flight requests.
        await runner.cleanup()
        await tandem.close()
        log.info("stopped")


async def work(settings: Settings, *, migrate: bool = True) -> None:
    """`tandem worker`: the background loops and no HTTP, until SIGTERM/SIGINT."""
    tandem = Tandem(settings)
    try:
        if migrate:
            await tandem.migrate()
        await tandem.start_background()
    except BaseException:
        await tandem.close()
        raise
    stop = _stop_on_signals()
    log.info("working", database=settings.database_url.split("://", 1)[0])
    try:
        await stop.wait()
    finally:
        log.info("shutting_down")
        await tandem.close()
        log.info("stopped")
