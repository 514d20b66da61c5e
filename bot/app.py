"""The aiohttp application: health probes, JSON errors, request size limit, the try-it routes."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web
from sqlalchemy import text

from bot import api, console, inbound, metrics, trypage
from bot.service import Tandem
from storage import faults, migrate

log = structlog.get_logger("tandem.http")
TANDEM = web.AppKey("tandem", Tandem)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message, "status": status}, status=status)


def fault_response(exc: BaseException) -> web.Response | None:
    """503 with Retry-After while the database cannot serve (providers retry on 5xx), 400 for
    a value it cannot store; None for anything else."""
    fault = faults.classify(exc)
    if fault == "unavailable":
        response = json_error(503, "the database is unavailable; try again shortly")
        response.headers["Retry-After"] = str(faults.RETRY_AFTER_SECONDS)
        return response
    if fault == "bad_value":
        return json_error(400, "a value in the request cannot be stored")
    return None


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error is JSON with a reason; unexpected ones are logged and answered 500."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        if exc.status < 400:
            raise
        reason = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
        return json_error(exc.status, reason or exc.reason)
    except Exception as exc:
        log.exception("request_failed", path=request.path)
        answer = fault_response(exc) or json_error(500, "internal error")
        status = answer.status
        return answer
    finally:
        elapsed = time.perf_counter() - started
        metrics.HTTP_SECONDS.labels(request.method, f"{status // 100}xx").observe(elapsed)
        if 400 <= status < 500 and request.path.startswith(("/webhooks/", "/try/api/")):
            channel = "try" if request.path.startswith("/try/") else request.path.split("/")[2]
            metrics.INBOUND.labels(channel, "rejected").inc()
        log.info(
            "request",
            method=request.method,
            path=request.path,
            status=status,
            ms=round((time.perf_counter() - started) * 1000, 1),
        )


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    tandem = request.app[TANDEM]
    try:
        pending = await migrate.pending_heads(tandem.db)
    except Exception as exc:
        return json_error(503, f"database unreachable: {type(exc).__name__}")
    if pending:
        return json_error(503, f"migrations pending: {', '.join(sorted(pending))}")
    try:
        async with tandem.db.engine.begin() as conn:
            # A real write that changes nothing: a full disk or a read-only database fails it.
            await conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
    except Exception as exc:
        return json_error(503, f"database cannot be written: {type(exc).__name__}")
    # Nobody to hear an escalation is a warning, not unreadiness: the service itself works.
    staff = await tandem.coaching.staffing()
    return web.json_response(
        {
            "status": "ready",
            "coaches": staff.coaches,
            "oncall_phone": staff.oncall_phone,
            "warnings": staff.warnings,
        }
    )


def create_app(tandem: Tandem) -> web.Application:
    """The HTTP app for one Tandem process (the caller starts and stops background work)."""
    app = web.Application(middlewares=[errors], client_max_size=tandem.settings.max_request_bytes)
    app[TANDEM] = tandem
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get(
        "/metrics", metrics.handler(tandem.db, tandem.settings.metrics_token, tandem.clock.now)
    )
    if tandem.settings.try_channel_enabled:
        trypage.setup(app, tandem)
    inbound.setup(app, tandem.channels, tandem.inbound)
    api.setup(app, tandem)
    console.setup(app, tandem)
    return app
