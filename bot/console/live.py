"""Live updates over Server-Sent Events: the coaching event bus, filtered to what this coach may
see. Events only say "look again" (kind and ids); the page then fetches fresh HTML, so the
database stays the truth. Each heartbeat re-checks the session without extending it: an idle
console is logged off even while its live feed is open."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime

from aiohttp import web

from bot.coaching import accounts
from bot.coaching.events import LiveEvent
from bot.console import queries
from bot.console.web import COACH, COOKIE, tandem_of
from storage.models import Coach, Patient

HEARTBEAT_SECONDS = web.AppKey("tandem_console_heartbeat", float)
STREAMS = web.AppKey("tandem_console_streams", set[asyncio.Queue[LiveEvent]])
# Open streams by the session they belong to, so logging out ends them at once.
BY_SESSION = web.AppKey(
    "tandem_console_streams_by_session", dict[str, set[asyncio.Queue[LiveEvent]]]
)
_SHUTDOWN = LiveEvent("shutdown", datetime.min.replace(tzinfo=UTC))
_LOGOUT = LiveEvent("logout", datetime.min.replace(tzinfo=UTC))


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def end_session_streams(app: web.Application, token: str) -> None:
    """Called on logout: this session's streams say "logout" and close."""
    for queue in list(app.get(BY_SESSION, {}).get(_key(token), ())):
        if queue.full():
            queue.get_nowait()
        queue.put_nowait(_LOGOUT)


async def _visible(request: web.Request, coach: Coach, event: LiveEvent) -> bool:
    if accounts.sees_all(coach):
        return True
    if event.kind.startswith("escalation_") and event.coach_id in (None, coach.id):
        return True
    if event.patient_id is None:
        return False
    async with tandem_of(request).db.session() as session:
        patient = await session.get(Patient, event.patient_id)
        return patient is not None and await accounts.may_see_patient(session, coach, patient)


async def _session_alive(request: web.Request) -> bool:
    tandem = tandem_of(request)
    async with tandem.db.session() as session:
        found = await queries.peek_session(
            session, request.cookies.get(COOKIE, ""), tandem.clock.now()
        )
    return found is not None


def _frame(kind: str, data: Mapping[str, object]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode()


async def events(request: web.Request) -> web.StreamResponse:
    coach = request[COACH]
    heartbeat = request.app.get(HEARTBEAT_SECONDS, 15.0)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    # Subscribed before the headers go out: the page catches up (fetches fresh HTML) when the
    # stream opens, so nothing published after that may be missed.
    bus = tandem_of(request).bus
    queue = bus.subscribe()
    streams = request.app[STREAMS]
    streams.add(queue)
    key = _key(request.cookies.get(COOKIE, ""))
    mine = request.app[BY_SESSION].setdefault(key, set())
    mine.add(queue)
    try:
        await response.prepare(request)
        await response.write(b"retry: 3000\n\n")
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), heartbeat)
            except TimeoutError:
                if not await _session_alive(request):
                    await response.write(_frame("logout", {}))
                    break
                await response.write(b": ping\n\n")
                continue
            if event is _SHUTDOWN:
                break
            # Logged out here (or in another process), or expired: nothing more is sent.
            if event is _LOGOUT or not await _session_alive(request):
                await response.write(_frame("logout", {}))
                break
            if await _visible(request, coach, event):
                data = {
                    "patient_id": event.patient_id,
                    "escalation_id": event.escalation_id,
                    "at": event.at.isoformat(),
                }
                await response.write(_frame(event.kind, data))
    except (ConnectionResetError, ConnectionError):
        pass  # the browser went away
    finally:
        streams.discard(queue)
        mine.discard(queue)
        if not mine:
            request.app[BY_SESSION].pop(key, None)
        bus.unsubscribe(queue)
    return response


async def close_streams(app: web.Application) -> None:
    """On shutdown: end every open stream so the server does not wait for them."""
    streams: set[asyncio.Queue[LiveEvent]] = app[STREAMS]
    for queue in list(streams):
        if queue.full():
            queue.get_nowait()
        queue.put_nowait(_SHUTDOWN)
