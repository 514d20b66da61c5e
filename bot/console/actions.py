"""The console's form posts. Each one validates its fields (a clear message, never a 500), checks
who may do it, then calls the same coaching and scheduling services as the REST API."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from bot.coaching import accounts, escalations, notes
from bot.console.forms import Form
from bot.console.pages import patient_page, team_page, templates_page, visible_patient
from bot.console.web import COACH, PREFIX, PageError, see_other, tandem_of
from bot.scheduling import control
from flows.timeofday import parse_time_of_day
from storage import repo
from storage.models import Coach, Escalation, MessageTemplate, Patient

MAX_MESSAGE = 1600
MAX_NOTE = notes.MAX_NOTE
LOCALES = ("en", "es")


def _back(patient_id: str, done: str, anchor: str = "") -> web.Response:
    return see_other(f"{PREFIX}/patients/{patient_id}?done={done}{anchor}")


async def _check_patient(request: web.Request, *, act: bool = True) -> str:
    tandem = tandem_of(request)
    async with tandem.db.session() as session:
        patient = await visible_patient(session, request[COACH], request.match_info["id"], act=act)
        return patient.id


def _need_supervisor(request: web.Request) -> None:
    if not accounts.sees_all(request[COACH]):
        raise PageError(403, "Only supervisors and admins can do this.")


async def take_over(request: web.Request) -> web.Response:
    patient_id = await _check_patient(request)
    await tandem_of(request).coaching.take_over(patient_id, request[COACH])
    return _back(patient_id, "takeover", "#reply")


async def reply(request: web.Request) -> web.Response:
    patient_id = await _check_patient(request)
    form = Form(await request.post())
    body = form.text("text", "Message", max_len=MAX_MESSAGE)
    if form.errors:
        return await patient_page(
            request, patient_id, status=422, errors=form.errors, values={"text": body}
        )
    await tandem_of(request).coaching.coach_message(patient_id, request[COACH], body)
    return _back(patient_id, "reply", "#reply")


async def release(request: web.Request) -> web.Response:
    patient_id = await _check_patient(request)
    form = Form(await request.post())
    resume = form.choice("resume", "Resume", ("flow", "menu"))
    outcome = form.text("outcome", "Outcome note", max_len=MAX_NOTE)
    if form.errors:
        return await patient_page(
            request, patient_id, status=422, errors=form.errors, values={"outcome": outcome}
        )
    tandem = tandem_of(request)
    result = await tandem.coaching.release(
        patient_id, request[COACH], resume=resume, outcome=outcome
    )
    done = "release" if result is not None else "released_none"
    async with tandem.db.session() as session:
        patient = await session.get(Patient, patient_id)
        visible = patient is not None and await accounts.may_see_patient(
            session, request[COACH], patient
        )
    if not visible:  # a pool patient: with the escalation resolved, back to the queue
        return see_other(f"{PREFIX}/?done={done}")
    return _back(patient_id, done)


async def acknowledge(request: web.Request) -> web.Response:
    tandem = tandem_of(request)
    coach = request[COACH]
    raw = request.match_info["id"]
    if not raw.isdigit() or not 0 < int(raw) < 2**63:
        raise PageError(404, "There is no escalation with that id.")
    async with tandem.db.session() as session:
        esc = await session.get(Escalation, int(raw))
        if esc is None:
            raise PageError(404, "There is no escalation with that id.")
        if not accounts.sees_all(coach) and esc.coach_id not in (None, coach.id):
            raise PageError(403, "This escalation belongs to another coach.")
        patient_id = esc.patient_id
    await tandem.coaching.acknowledge(int(raw), coach)
    if (await request.post()).get("from") == "queue":
        return see_other(f"{PREFIX}/?done=ack")
    return _back(patient_id, "ack")


async def add_note(request: web.Request) -> web.Response:
    tandem = tandem_of(request)
    coach = request[COACH]
    patient_id = await _check_patient(request, act=False)  # reading the record allows notes
    form = Form(await request.post())
    body = form.text("note", "Note", max_len=MAX_NOTE)
    if form.errors:
        return await patient_page(
            request, patient_id, status=422, errors=form.errors, values={"note": body}
        )
    async with tandem.db.session() as session, session.begin():
        await notes.add(session, patient_id, coach, body, tandem.clock.now())
    return _back(patient_id, "note", "#notes")


async def _active_ids(request: web.Request) -> list[str]:
    async with tandem_of(request).db.session() as session:
        rows = await session.execute(select(Coach.id).where(Coach.active))
        return list(rows.scalars())


async def reassign(request: web.Request) -> web.Response:
    _need_supervisor(request)
    tandem = tandem_of(request)
    coach = request[COACH]
    patient_id = await _check_patient(request)
    form = Form(await request.post())
    target = form.choice("coach_id", "Coach", ["", *await _active_ids(request)])
    if form.errors:
        errors = {"coach_id": "Choose an active coach, or the pool."}
        return await patient_page(request, patient_id, status=422, errors=errors)
    now = tandem.clock.now()
    async with tandem.db.session() as session, session.begin():
        patient = await repo.lock_patient(session, patient_id)
        assert patient is not None
        before = patient.coach_id
        patient.coach_id = target or None
        # The patient's unresolved escalations follow them to the new coach.
        for esc in await escalations.unresolved_for(session, patient_id):
            esc.coach_id = patient.coach_id
        await repo.log(
            session,
            now,
            "patient_reassigned",
            patient_id,
            {"by": coach.id, "from": before, "to": patient.coach_id},
        )
    return _back(patient_id, "coach")


async def schedule(request: web.Request) -> web.Response:
    """Check-in time, pause and resume: the same functions the patient's own commands use."""
    tandem = tandem_of(request)
    coach = request[COACH]
    patient_id = await _check_patient(request)
    form = Form(await request.post())
    action = form.choice("action", "Action", ("checkin", "pause", "resume"))
    at = None
    days: int | None = None
    if action == "checkin":
        raw = form.text("checkin_time", "Check-in time", max_len=20)
        at = parse_time_of_day(raw) if raw else None
        if raw and at is None:
            form.errors["checkin_time"] = "Check-in time: write a time of day like 09:00 or 7:30pm."
    elif action == "pause":
        raw = form.text("days", "Days", max_len=3, required=False)
        if raw:
            if not raw.isdigit() or not 1 <= int(raw) <= 90:
                form.errors["days"] = "Days: a whole number from 1 to 90, or empty for no end."
            else:
                days = int(raw)
    if form.errors:
        return await patient_page(request, patient_id, status=422, errors=form.errors)
    now = tandem.clock.now()
    async with tandem.db.session() as session, session.begin():
        patient = await repo.lock_patient(session, patient_id)
        assert patient is not None
        by = f"coach:{coach.id}"
        try:
            if action == "checkin" and at is not None:
                await control.set_checkin_time(session, patient, at, now, tandem.settings, by=by)
            elif action == "pause":
                await control.pause(session, patient, days, now, by=by)
            elif action == "resume":
                await control.resume(session, patient, now, by=by)
        except control.PatientStateError as exc:
            raise PageError(409, f"Not changed: {exc}.") from exc
    return _back(patient_id, action, "#schedule")


async def add_template(request: web.Request) -> web.Response:
    tandem = tandem_of(request)
    form = Form(await request.post())
    locale = form.choice("locale", "Language", LOCALES)
    title = form.text("title", "Title", max_len=80)
    body = form.text("body", "Text", max_len=MAX_MESSAGE)
    if form.errors:
        values = {"locale": locale, "title": title, "body": body}
        return await templates_page(request, status=422, errors=form.errors, values=values)
    now = tandem.clock.now()
    async with tandem.db.session() as session, session.begin():
        session.add(
            MessageTemplate(
                locale=locale, title=title, body=body, created_by=request[COACH].id, created_at=now
            )
        )
    return see_other(f"{PREFIX}/templates?done=template")


async def delete_template(request: web.Request) -> web.Response:
    tandem = tandem_of(request)
    coach = request[COACH]
    raw = request.match_info["id"]
    async with tandem.db.session() as session, session.begin():
        valid = raw.isdigit() and len(raw) < 18
        row = await session.get(MessageTemplate, int(raw)) if valid else None
        if row is None:
            raise PageError(404, "There is no template with that id.")
        if row.created_by != coach.id and not accounts.sees_all(coach):
            raise PageError(403, "Only its author or a supervisor can delete this template.")
        await session.delete(row)
    return see_other(f"{PREFIX}/templates?done=template_deleted")


async def set_availability(request: web.Request) -> web.Response:
    tandem = tandem_of(request)
    form = Form(await request.post())
    value = form.choice("available", "Availability", ("yes", "no"))
    if form.errors:
        return await team_page(request, status=422, errors=form.errors)
    now = tandem.clock.now()
    async with tandem.db.session() as session, session.begin():
        coach = await session.get(Coach, request[COACH].id)
        assert coach is not None
        coach.available = value == "yes"
        await repo.log(
            session, now, "coach_availability", None, {"coach_id": coach.id, "available": value}
        )
    return see_other(f"{PREFIX}/team?done=available")


async def set_backup(request: web.Request) -> web.Response:
    _need_supervisor(request)
    tandem = tandem_of(request)
    target_id = request.match_info["id"][:36]
    active = await _active_ids(request)
    if target_id not in active:
        raise PageError(404, "There is no active coach with that id.")
    form = Form(await request.post())
    backup = form.choice("backup_id", "Backup", ["", *(i for i in active if i != target_id)])
    if form.errors:
        errors = {"backup_id": "Choose another active coach as the backup, or the supervisors."}
        return await team_page(request, status=422, errors=errors)
    now = tandem.clock.now()
    async with tandem.db.session() as session, session.begin():
        target = await session.get(Coach, target_id)
        assert target is not None
        target.backup_id = backup or None
        await repo.log(
            session,
            now,
            "coach_backup_set",
            None,
            {"coach_id": target.id, "backup_id": target.backup_id, "by": request[COACH].id},
        )
    return see_other(f"{PREFIX}/team?done=backup")
