"""Routes of the try-it web chat: the page at /try and its small JSON API."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections import OrderedDict, deque
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select

from bot import jsonbody, metrics
from bot.channels.base import InboundMessage
from bot.channels.trychat import MAX_TEXT, NAME
from bot.service import Tandem
from bot.startover import start_over
from storage import repo
from storage.models import Message

PAGE = Path(__file__).with_name("static") / "try.html"
COOKIE = "tandem_try"
# The session id is the only thing that lets a visitor read a conversation, so it must be a
# secret: at least 32 URL-safe characters (the server issues 43). The database keeps only a hash
# of it as the patient's address, so no one reading the database (or the console) can use it.
SESSION_PATTERN = r"^[A-Za-z0-9_-]{32,128}$"
# Per process, in memory (a demo channel): new conversations per client address in 10 minutes
# and messages per conversation per minute (TANDEM_TRY_SESSIONS_PER_CLIENT and
# TANDEM_TRY_MESSAGES_PER_MINUTE), so no one opens hundreds of (urgent) escalations in seconds.
SESSION_WINDOW_SECONDS = 600.0
Body = TypeVar("Body", bound=BaseModel)


class TryMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    session: str | None = Field(default=None, pattern=SESSION_PATTERN)
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,63}$")


class Restart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    session: str | None = Field(default=None, pattern=SESSION_PATTERN)


class Window:
    """At most `limit` events per key in the last `seconds` (a sliding window)."""

    def __init__(self, limit: int, seconds: float, max_keys: int = 10_000) -> None:
        self.limit, self.seconds, self.max_keys = limit, seconds, max_keys
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def allow(self, key: str) -> bool:
        if self.limit <= 0:
            return True
        now = time.monotonic()
        times = self._seen.pop(key, None) or deque()
        while times and times[0] <= now - self.seconds:
            times.popleft()
        allowed = len(times) < self.limit
        if allowed:
            times.append(now)
        self._seen[key] = times
        if len(self._seen) > self.max_keys:
            self._seen.popitem(last=False)
        return allowed


def address_of(session: str) -> str:
    """The patient address a try-it session is stored under (never the secret itself)."""
    return "web-" + hashlib.sha256(session.encode()).hexdigest()[:40]


def _unprocessable(exc: ValidationError) -> web.HTTPUnprocessableEntity:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return web.HTTPUnprocessableEntity(reason="invalid field", text=f"{where}: {first['msg']}")


def _parse(raw: bytes, model: type[Body]) -> Body:
    """The request body as `model`: 400 for malformed JSON, 422 naming the first bad field."""
    try:
        body = jsonbody.load(raw)
    except jsonbody.BadString as exc:
        raise web.HTTPUnprocessableEntity(reason="invalid field", text=str(exc)) from exc
    except jsonbody.BadJson as exc:
        text = f"malformed JSON: {exc}"
        raise web.HTTPBadRequest(reason="malformed JSON", text=text) from exc
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise _unprocessable(exc) from exc


def _cookie_session(request: web.Request) -> str | None:
    value = request.cookies.get(COOKIE, "")
    return value if _valid_session(value) else None


def _set_cookie(response: web.StreamResponse, tandem: Tandem, session: str) -> None:
    secure = tandem.settings.public_url.startswith("https://")
    response.set_cookie(
        COOKIE, session, httponly=True, samesite="Strict", secure=secure, path="/try"
    )


def _too_many(what: str) -> web.HTTPTooManyRequests:
    return web.HTTPTooManyRequests(
        text=f"too many {what}; wait a minute", headers={"Retry-After": "60"}
    )


def setup(app: web.Application, tandem: Tandem) -> None:
    new_sessions = Window(tandem.settings.try_sessions_per_client, SESSION_WINDOW_SECONDS)
    per_session = Window(tandem.settings.try_messages_per_minute, 60.0)
    known: OrderedDict[str, None] = OrderedDict()  # sessions this process has seen lately

    def admit(request: web.Request, session: str) -> None:
        """429 unless this client may start one more conversation (when `session` is new)."""
        if session in known:
            known.move_to_end(session)
            return
        if not new_sessions.allow(request.remote or "unknown"):
            raise _too_many("new conversations from this address")
        known[session] = None
        if len(known) > 10_000:
            known.popitem(last=False)

    async def page(request: web.Request) -> web.StreamResponse:
        response = web.FileResponse(PAGE, headers={"Cache-Control": "no-store"})
        if _cookie_session(request) is None:
            session = secrets.token_urlsafe(32)
            admit(request, session)
            _set_cookie(response, tandem, session)
        return response

    async def post_message(request: web.Request) -> web.Response:
        msg = _parse(await request.read(), TryMessage)
        session = msg.session or _cookie_session(request)
        issued = session is None
        if session is None:
            session = secrets.token_urlsafe(32)
        admit(request, session)
        if not per_session.allow(session):
            raise _too_many("messages in this conversation")
        address = address_of(session)
        with metrics.STEP_SECONDS.labels(NAME).time():
            receipt = await tandem.pipeline.receive(
                InboundMessage(
                    channel=NAME,
                    address=address,
                    text=msg.text,
                    provider_message_id=f"{address}:{msg.id}" if msg.id else None,
                    received_at=datetime.now(UTC),
                )
            )
        outcome = "duplicate" if receipt.duplicate else "accepted"
        metrics.INBOUND.labels(NAME, outcome).inc()
        response = web.json_response(
            {
                "session": session,
                "message_id": receipt.message_id,
                "patient_id": receipt.patient_id,
                "duplicate": receipt.duplicate,
            },
            status=200 if receipt.duplicate else 202,
            headers={"Cache-Control": "no-store"},
        )
        if issued:
            _set_cookie(response, tandem, session)
        return response

    async def restart(request: web.Request) -> web.Response:
        """Start over: the current conversation ends (kept, discharged) and a new secret is
        issued, so the next message begins from consent again."""
        raw = await request.read()
        msg = _parse(raw, Restart) if raw.strip() else Restart()
        fresh = secrets.token_urlsafe(32)
        admit(request, fresh)
        old = msg.session or _cookie_session(request)
        ended = old is not None and await start_over(
            tandem.db, tandem.clock.now(), NAME, address_of(old)
        )
        response = web.json_response(
            {"session": fresh, "ended": ended}, headers={"Cache-Control": "no-store"}
        )
        _set_cookie(response, tandem, fresh)
        return response

    async def list_messages(request: web.Request) -> web.Response:
        session_id = request.query.get("session") or _cookie_session(request) or ""
        raw_after = request.query.get("after", "0")
        if not raw_after.isdigit() or len(raw_after) > 18:
            raise web.HTTPUnprocessableEntity(text="after: a whole number below 10^18")
        after = int(raw_after)
        if not _valid_session(session_id):
            raise web.HTTPUnprocessableEntity(
                text="session: the secret this server issued (32-128 letters, digits, - or _)"
            )
        async with tandem.db.session() as session:
            patient = await repo.find_patient(session, NAME, address_of(session_id))
            if patient is None:
                return web.json_response({"messages": []}, headers={"Cache-Control": "no-store"})
            rows = await session.execute(
                select(Message)
                .where(Message.patient_id == patient.id, Message.id > after)
                .order_by(Message.id)
                .limit(200)
            )
            messages = [
                {
                    "id": m.id,
                    "direction": m.direction,
                    "text": m.body,
                    "status": m.status,
                    "at": m.created_at.isoformat(),
                }
                for m in rows.scalars()
            ]
        return web.json_response({"messages": messages}, headers={"Cache-Control": "no-store"})

    app.router.add_get("/try", page)
    app.router.add_post("/try/api/messages", post_message)
    app.router.add_get("/try/api/messages", list_messages)
    app.router.add_post("/try/api/restart", restart)


def _valid_session(value: str) -> bool:
    return re.fullmatch(SESSION_PATTERN, value) is not None
