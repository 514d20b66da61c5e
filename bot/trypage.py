"""Routes of the try-it web chat: the page at /try and its small JSON API."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select

from bot import jsonbody
from bot.channels.base import InboundMessage
from bot.channels.trychat import MAX_TEXT, NAME
from bot.service import Tandem
from storage import repo
from storage.models import Message

PAGE = Path(__file__).with_name("static") / "try.html"
SESSION_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


class TryMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    session: str = Field(pattern=SESSION_PATTERN)
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,63}$")


def _unprocessable(exc: ValidationError) -> web.HTTPUnprocessableEntity:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return web.HTTPUnprocessableEntity(reason="invalid field", text=f"{where}: {first['msg']}")


def setup(app: web.Application, tandem: Tandem) -> None:
    async def page(request: web.Request) -> web.FileResponse:
        return web.FileResponse(PAGE)

    async def post_message(request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = jsonbody.load(raw)
        except jsonbody.BadString as exc:
            raise web.HTTPUnprocessableEntity(reason="invalid field", text=str(exc)) from exc
        except jsonbody.BadJson as exc:
            text = f"malformed JSON: {exc}"
            raise web.HTTPBadRequest(reason="malformed JSON", text=text) from exc
        try:
            msg = TryMessage.model_validate(body)
        except ValidationError as exc:
            raise _unprocessable(exc) from exc
        receipt = await tandem.pipeline.receive(
            InboundMessage(
                channel=NAME,
                address=msg.session,
                text=msg.text,
                provider_message_id=f"{msg.session}:{msg.id}" if msg.id else None,
                received_at=datetime.now(UTC),
            )
        )
        return web.json_response(
            {
                "message_id": receipt.message_id,
                "patient_id": receipt.patient_id,
                "duplicate": receipt.duplicate,
            },
            status=200 if receipt.duplicate else 202,
        )

    async def list_messages(request: web.Request) -> web.Response:
        session_id = request.query.get("session", "")
        raw_after = request.query.get("after", "0")
        if not raw_after.isdigit() or len(raw_after) > 18:
            raise web.HTTPUnprocessableEntity(text="after: a whole number below 10^18")
        after = int(raw_after)
        if not _valid_session(session_id):
            raise web.HTTPUnprocessableEntity(text="session: 1-64 letters, digits, - or _")
        async with tandem.db.session() as session:
            patient = await repo.find_patient(session, NAME, session_id)
            if patient is None:
                return web.json_response({"messages": []})
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
        return web.json_response({"messages": messages})

    app.router.add_get("/try", page)
    app.router.add_post("/try/api/messages", post_message)
    app.router.add_get("/try/api/messages", list_messages)


def _valid_session(value: str) -> bool:
    return re.fullmatch(SESSION_PATTERN, value) is not None
