"""What every /api/v1 handler shares: the prefix, the authenticated coach, JSON errors and
bodies, and the patient look-up with its caseload check."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import datarights, jsonbody
from bot.coaching import accounts
from bot.service import Tandem
from storage.models import Coach, Patient

PREFIX = "/api/v1"
COACH = web.RequestKey("tandem_api_coach", Coach)
API_TANDEM = web.AppKey("tandem_api", Tandem)
API_DOC = web.AppKey("tandem_api_doc", dict[str, Any])
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MAX_ID = 2**63 - 1
M = TypeVar("M", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def error_response(status: int, message: str) -> web.Response:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return web.json_response({"error": message, "status": status}, status=status, headers=headers)


def json_response(model: BaseModel, status: int = 200) -> web.Response:
    return web.json_response(text=model.model_dump_json(), status=status)


def describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "body"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


async def read_body(request: web.Request, model: type[M], *, optional: bool = False) -> M:
    raw = await request.read()
    if not raw.strip() and optional:
        return model()
    try:
        data = jsonbody.load(raw)
    except jsonbody.BadString as exc:
        raise ApiError(422, str(exc)) from exc
    except jsonbody.BadJson as exc:
        raise ApiError(400, f"the body must be JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ApiError(422, "the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, describe(exc)) from exc
    except ValueError as exc:  # raised from a model validator
        raise ApiError(422, str(exc)) from exc


def tandem_of(request: web.Request) -> Tandem:
    return request.app[API_TANDEM]


def patient_id_of(request: web.Request) -> str:
    value = request.match_info["id"].lower()
    if not UUID_RE.match(value):
        raise ApiError(404, "no patient with that id")
    return value


async def visible_patient(
    session: AsyncSession, coach: Coach, patient_id: str, *, act: bool = False
) -> Patient:
    """The patient, or 404 / 403. `act`: the coach must be allowed to act (take over, write,
    hand back, change the schedule), not only to read the record."""
    patient = await session.get(Patient, patient_id)
    if patient is None or patient.status == datarights.ERASED:
        raise ApiError(404, "no patient with that id")
    if not await accounts.may_see_patient(session, coach, patient):
        raise ApiError(403, "this patient is not in your caseload")
    if act and not await accounts.may_act_for_patient(session, coach, patient):
        raise ApiError(403, "you can read this patient's record and notes but not act for them")
    return patient
