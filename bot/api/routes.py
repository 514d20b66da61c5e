"""REST handlers for /api/v1. Every error is JSON {"error", "status"}; 401 without a valid bearer
token, 403 for another coach's patient, 404 for an unknown id, 409 for a state conflict, 422 for
invalid fields."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import datarights, facts, mbc
from bot.api import schedule_routes
from bot.api import schemas as s
from bot.api.common import (
    API_DOC,
    API_TANDEM,
    COACH,
    MAX_ID,
    PREFIX,
    UUID_RE,
    ApiError,
    Handler,
    error_response,
    json_response,
    patient_id_of,
    read_body,
    tandem_of,
    visible_patient,
)
from bot.api.openapi import document
from bot.coaching import accounts, escalations, notes
from bot.coaching.escalations import EscalationError
from bot.coaching.service import NotFound
from bot.coaching.takeover import TakeoverError
from bot.research import api as research_api
from bot.scheduling import zones
from bot.service import Tandem
from bot.study.allocation import study_arm
from storage import repo
from storage.models import Escalation, Message, Patient, Takeover


async def _patient_out(session: AsyncSession, patient: Patient) -> s.PatientOut:
    identity = await repo.primary_identity(session, patient.id)
    return s.PatientOut(
        id=patient.id,
        channel=identity.channel if identity else None,
        address=identity.address if identity else None,
        status=patient.status,
        locale=patient.locale,
        country=patient.country,
        timezone=patient.timezone,
        checkin_time=patient.checkin_time,
        program=await facts.chosen_program(session, patient),
        display_name=patient.display_name,
        consent_given=patient.consent_given,
        coach_id=patient.coach_id,
        bot_paused=patient.bot_paused,
        created_at=patient.created_at,
        outcomes=await mbc.outcomes_for(session, patient.id),  # measurement-based care
        arm=await study_arm(session, patient.id),
    )


def _message_out(message: Message) -> s.MessageOut:
    coach_id = None
    sender = "patient" if message.direction == "in" else "bot"
    if message.direction == "out" and (message.payload or "").startswith("coach:"):
        sender, coach_id = "coach", (message.payload or "")[6:]
    return s.MessageOut(
        id=message.id,
        direction="in" if message.direction == "in" else "out",
        sender=sender,
        coach_id=coach_id,
        channel=message.channel,
        body=message.body,
        status=message.status,
        created_at=message.created_at,
    )


def _escalation_out(esc: Escalation, guidance: str) -> s.EscalationOut:
    out = s.EscalationOut.model_validate(esc, from_attributes=True)
    if esc.safeguarding:
        out.safeguarding_guidance = guidance
    return out


def _takeover_out(takeover: Takeover) -> s.TakeoverOut:
    return s.TakeoverOut.model_validate(takeover, from_attributes=True)


def _int_query(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ApiError(422, f"{name}: must be a whole number") from exc
    if not low <= value <= high:
        raise ApiError(422, f"{name}: must be between {low} and {high}")
    return value


# --- handlers ----------------------------------------------------------------------------------


async def create_patient(request: web.Request) -> web.Response:
    coach = request[COACH]
    body = await read_body(request, s.PatientCreate)
    tandem = tandem_of(request)
    now = tandem.clock.now()
    async with tandem.db.session() as session, session.begin():
        if await repo.find_patient(session, body.channel, body.address) is not None:
            raise ApiError(409, "this address is already enrolled")
        patient, created = await repo.get_or_create_patient(
            session,
            body.channel,
            body.address,
            now,
            locale=body.locale or tandem.settings.default_locale,
            timezone=body.guessed_timezone(tandem.settings.default_timezone),
        )
        if not created:
            raise ApiError(409, "this address is already enrolled")
        patient.checkin_time = body.checkin_time
        patient.program = body.program
        patient.country = body.country
        if body.timezone:
            patient.timezone_confirmed = True  # the coach knows it: onboarding will not ask
        elif body.channel == "sms":
            fallback = tandem.settings.default_timezone
            patient.timezone, patient.timezone_confirmed = zones.guess(body.address, fallback, now)
        if coach.role == "coach":
            patient.coach_id = coach.id  # a coach's own enrolments join their caseload
        if body.consent is not None:
            patient.consent_given = True
            patient.consent_at = body.consent.obtained_at
            patient.consent_method = body.consent.method
            patient.consent_by = body.consent.by
            await repo.log(session, now, "consent", patient.id, {"given": True, "outside": True})
        await repo.log(session, now, "patient_created_by_api", patient.id, {"coach_id": coach.id})
        await tandem.pipeline.enrolled(session, patient, now)  # a study allocates the arm here
    await tandem.pipeline.start_flow(patient.id, "onboarding")
    return json_response(s.PatientCreated(id=patient.id), 201)


async def find_patient(request: web.Request) -> web.Response:
    coach = request[COACH]
    channel, address = request.query.get("channel"), request.query.get("address")
    if channel not in ("sms", "telegram") or not address:
        raise ApiError(422, "channel (sms or telegram) and address are required")
    if "\x00" in address or len(address) > 128:
        raise ApiError(422, "address: not a valid address")
    if channel == "sms":
        try:
            address = s.e164(address)
        except ValueError as exc:
            raise ApiError(422, str(exc)) from exc
    tandem = tandem_of(request)
    async with tandem.db.session() as session, session.begin():
        patient = await repo.find_patient(session, channel, address)
        # Another coach's patient answers exactly as an unknown address does: a coach cannot
        # learn whether a number is enrolled elsewhere.
        if patient is None or not await accounts.may_see_patient(session, coach, patient):
            raise ApiError(404, "no patient with that channel and address")
        await accounts.record_view(session, coach, patient.id, "profile", tandem.clock.now())
        return json_response(await _patient_out(session, patient))


async def get_patient(request: web.Request) -> web.Response:
    coach = request[COACH]
    tandem = tandem_of(request)
    async with tandem.db.session() as session, session.begin():
        patient = await visible_patient(session, coach, patient_id_of(request))
        await accounts.record_view(session, coach, patient.id, "profile", tandem.clock.now())
        return json_response(await _patient_out(session, patient))


async def update_patient(request: web.Request) -> web.Response:
    coach = request[COACH]
    tandem = tandem_of(request)
    async with tandem.db.session() as session:
        await visible_patient(session, coach, patient_id_of(request))  # 403/404 before the body
    body = await read_body(request, s.PatientUpdate)
    async with tandem.db.session() as session, session.begin():
        patient = await repo.lock_patient(session, patient_id_of(request))
        if patient is None:
            raise ApiError(404, "no patient with that id")
        changed: dict[str, str | None] = {}
        if "locale" in body.model_fields_set and body.locale is not None:
            patient.locale = changed["locale"] = body.locale
        if "country" in body.model_fields_set:
            patient.country = changed["country"] = body.country
        await repo.log(
            session,
            tandem.clock.now(),
            "patient_updated",
            patient.id,
            {"fields": sorted(changed), "by": f"coach:{coach.id}", **changed},
        )
        await session.flush()
        return json_response(await _patient_out(session, patient))


async def list_messages(request: web.Request) -> web.Response:
    coach = request[COACH]
    tandem = tandem_of(request)
    after = _int_query(request, "after", 0, 0, MAX_ID)
    limit = _int_query(request, "limit", 100, 1, 500)
    async with tandem.db.session() as session, session.begin():
        patient = await visible_patient(session, coach, patient_id_of(request))
        rows = await session.execute(
            select(Message)
            .where(Message.patient_id == patient.id, Message.id > after)
            .order_by(Message.id)
            .limit(limit)
        )
        messages = [_message_out(m) for m in rows.scalars()]
        await accounts.record_view(session, coach, patient.id, "messages", tandem.clock.now())
    return json_response(s.MessageList(messages=messages))


async def send_message(request: web.Request) -> web.Response:
    coach = request[COACH]
    tandem = tandem_of(request)
    patient_id = patient_id_of(request)
    async with tandem.db.session() as session:
        await visible_patient(session, coach, patient_id, act=True)
    body = await read_body(request, s.CoachMessage)
    message = await tandem.coaching.coach_message(patient_id, coach, body.text)
    return json_response(_message_out(message), 201)


async def list_notes(request: web.Request) -> web.Response:
    coach = request[COACH]
    tandem = tandem_of(request)
    async with tandem.db.session() as session, session.begin():
        patient = await visible_patient(session, coach, patient_id_of(request))
        found = await notes.latest(session, patient.id, limit=200)
        await accounts.record_view(session, coach, patient.id, "notes", tandem.clock.now())
        out = [s.NoteOut.model_validate(n, from_attributes=True) for n in found]
    return json_response(s.NoteList(notes=out))


async def add_note(request: web.Request) -> web.Response:
    coach = request[COACH]
    tandem = tandem_of(request)
    patient_id = patient_id_of(request)
    async with tandem.db.session() as session:
        await visible_patient(session, coach, patient_id)  # reading the record allows notes
    body = await read_body(request, s.NoteIn)
    async with tandem.db.session() as session, session.begin():
        note = await notes.add(session, patient_id, coach, body.text, tandem.clock.now())
        out = s.NoteOut.model_validate(note, from_attributes=True)
    return json_response(out, 201)


async def take_over(request: web.Request) -> web.Response:
    coach = request[COACH]
    tandem = tandem_of(request)
    patient_id = patient_id_of(request)
    async with tandem.db.session() as session:
        await visible_patient(session, coach, patient_id, act=True)
    return json_response(_takeover_out(await tandem.coaching.take_over(patient_id, coach)))


async def release(request: web.Request) -> web.Response:
    coach = request[COACH]
    tandem = tandem_of(request)
    patient_id = patient_id_of(request)
    async with tandem.db.session() as session:
        await visible_patient(session, coach, patient_id, act=True)
    body = await read_body(request, s.Release, optional=True)
    result = await tandem.coaching.release(
        patient_id, coach, resume=body.resume, outcome=body.outcome
    )
    if result is None:
        raise ApiError(409, "no takeover is open for this patient")
    return json_response(_takeover_out(result))


async def list_escalations(request: web.Request) -> web.Response:
    coach = request[COACH]
    status = request.query.get("status", "open")
    if status not in ("open", "acknowledged", "resolved", "all"):
        raise ApiError(422, "status: one of open, acknowledged, resolved, all")
    tandem = tandem_of(request)
    query = select(Escalation).where(escalations.visible_filter(coach))  # type: ignore[arg-type]
    if status != "all":
        query = query.where(Escalation.status == status)
    async with tandem.db.session() as session:
        rows = await session.execute(query.order_by(Escalation.due_at, Escalation.id).limit(500))
        found = sorted(rows.scalars(), key=lambda e: (escalations.PRIORITIES[e.priority], e.due_at))
    guidance = tandem.settings.safeguarding_guidance
    return json_response(
        s.EscalationList(escalations=[_escalation_out(e, guidance) for e in found])
    )


async def acknowledge(request: web.Request) -> web.Response:
    coach = request[COACH]
    tandem = tandem_of(request)
    raw = request.match_info["id"]
    if not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
        raise ApiError(404, "no escalation with that id")
    async with tandem.db.session() as session:
        esc = await session.get(Escalation, int(raw))
        if esc is None:
            raise ApiError(404, "no escalation with that id")
        if not accounts.sees_all(coach) and esc.coach_id not in (None, coach.id):
            raise ApiError(403, "this escalation belongs to another coach")
    esc = await tandem.coaching.acknowledge(int(raw), coach)
    return json_response(_escalation_out(esc, tandem.settings.safeguarding_guidance))


def _need_admin(request: web.Request) -> None:
    if request[COACH].role != "admin":
        raise ApiError(403, "only an admin can export or erase a patient's data")


async def export_patient(request: web.Request) -> web.Response:
    """Everything held about the patient (admin; audited)."""
    _need_admin(request)
    tandem = tandem_of(request)
    async with tandem.db.session() as session, session.begin():
        patient = await visible_patient(session, request[COACH], patient_id_of(request))
        data = await datarights.export(session, patient.id)
        assert data is not None
        await repo.log(
            session, tandem.clock.now(), "patient_exported", patient.id, {"by": request[COACH].id}
        )
    return web.json_response(data, dumps=_dumps)


async def erase_patient(request: web.Request) -> web.Response:
    """Erase identifiers, bodies and free text everywhere (admin; 204; a tombstone event)."""
    _need_admin(request)
    tandem = tandem_of(request)
    async with tandem.db.session() as session, session.begin():
        patient = await visible_patient(session, request[COACH], patient_id_of(request))
        await datarights.erase(
            session, patient.id, tandem.clock.now(), f"coach:{request[COACH].id}"
        )
    return web.Response(status=204)


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[API_DOC])


# --- wiring ------------------------------------------------------------------------------------


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 200:
        return None
    return token.strip()


@web.middleware
async def api_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path
    if not path.startswith(PREFIX + "/") or path == PREFIX + "/openapi.json":
        return await handler(request)
    try:
        token = _bearer(request)
        if token is None:
            return error_response(401, "a bearer token is required (Authorization: Bearer ...)")
        tandem = tandem_of(request)
        async with tandem.db.session() as session, session.begin():
            coach = await accounts.coach_for_token(session, token, tandem.clock.now())
        if coach is None:
            return error_response(401, "the bearer token is not valid")
        request[COACH] = coach
        response = await handler(request)
    except ApiError as exc:
        if exc.status == 403 and COACH in request:
            await _audit_denied(request)
        return error_response(exc.status, exc.message)
    except NotFound as exc:
        return error_response(404, f"no {exc} with that id")
    except (TakeoverError, EscalationError) as exc:
        return error_response(409, str(exc))
    return response


async def _audit_denied(request: web.Request) -> None:
    """Every refused API access is in the event log, with the coach and what they asked for."""
    tandem = tandem_of(request)
    raw = request.match_info.get("id", "").lower()
    patient_id = raw if UUID_RE.match(raw) else None
    data = {"coach_id": request[COACH].id, "method": request.method, "path": request.path[:200]}
    async with tandem.db.session() as session, session.begin():
        await repo.log(session, tandem.clock.now(), "api_access_denied", patient_id, data)


@web.middleware
async def no_store(request: web.Request, handler: Handler) -> web.StreamResponse:
    """API answers carry patient data: no browser or proxy may keep a copy."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if request.path.startswith(PREFIX + "/"):
            exc.headers["Cache-Control"] = "no-store"
        raise
    if request.path.startswith(PREFIX + "/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def setup(app: web.Application, tandem: Tandem) -> None:
    """Mount /api/v1 on `app`."""
    app[API_TANDEM] = tandem
    app[API_DOC] = document()
    app.middlewares.append(no_store)
    app.middlewares.append(api_auth)
    r = app.router
    r.add_get(PREFIX + "/openapi.json", openapi)
    r.add_post(PREFIX + "/patients", create_patient)
    r.add_get(PREFIX + "/patients", find_patient)
    r.add_get(PREFIX + "/patients/{id}", get_patient)
    r.add_patch(PREFIX + "/patients/{id}", update_patient)
    r.add_delete(PREFIX + "/patients/{id}", erase_patient)
    r.add_get(PREFIX + "/patients/{id}/export", export_patient)
    r.add_get(PREFIX + "/patients/{id}/messages", list_messages)
    r.add_post(PREFIX + "/patients/{id}/messages", send_message)
    r.add_get(PREFIX + "/patients/{id}/notes", list_notes)
    r.add_post(PREFIX + "/patients/{id}/notes", add_note)
    r.add_post(PREFIX + "/patients/{id}/takeover", take_over)
    r.add_post(PREFIX + "/patients/{id}/release", release)
    schedule_routes.add_routes(r)
    research_api.add_routes(r)
    r.add_get(PREFIX + "/escalations", list_escalations)
    r.add_post(PREFIX + "/escalations/{id}/acknowledge", acknowledge)
