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
    if migrate:
        await tandem.migrate()
    await tandem.coaching.startup_check()  # before /readyz answers: no coaches, no on-call SMS
    app = create_app(tandem)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_GRACE_SECONDS)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    await tandem.start_background()
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
