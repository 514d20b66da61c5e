"""`tandem serve` and `tandem db upgrade`: start-up, graceful shutdown on SIGTERM."""

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


async def serve(settings: Settings, host: str, port: int, *, migrate: bool = True) -> None:
    """Serve until SIGTERM/SIGINT: then stop accepting, finish in-flight work, and exit."""
    tandem = Tandem(settings)
    runner = web.AppRunner(
        create_app(tandem), access_log=None, shutdown_timeout=SHUTDOWN_GRACE_SECONDS
    )
    try:
        if migrate:
            await tandem.migrate()
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        await tandem.start_background()
    except BaseException:
        # Release what was opened; the caller prints one line naming the cause.
        await runner.cleanup()
        await tandem.close()
        raise
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info(
        "serving",
        url=f"http://{host}:{port}",
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
