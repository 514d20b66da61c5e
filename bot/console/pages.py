"""The console's pages (GET): queue, caseload, patient record, templates, team."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coaching import accounts
from bot.coaching.crisis import PLAN_SECTIONS
from bot.console import queries
from bot.console.svg import trend_svg
from bot.console.web import (
    COACH,
    CSRF,
    PageError,
    render,
    render_fragment,
    tandem_of,
)
from storage.models import Coach, MessageTemplate, Patient
from storage.statuses import PatientStatus

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
FLASH = {
    "takeover": "You have taken this conversation over. The bot is paused for this patient.",
    "reply": "Your message is queued on the patient's channel.",
    "release": "Handed back to the bot. Open escalations were resolved with your note.",
    "released_none": "No takeover was open; open escalations were resolved and the bot resumed.",
    "ack": "Escalation acknowledged.",
    "note": "Note added.",
    "coach": "The patient's coach was changed.",
    "checkin": "Daily check-in time changed.",
    "pause": "Scheduled messages are paused for this patient.",
    "resume": "Scheduled messages resumed.",
    "template": "Template saved.",
    "template_deleted": "Template deleted.",
    "available": "Your availability was updated.",
    "backup": "Backup updated.",
}
# The safety check's questions as a coach reads them (bot/coaching/screener.py).
SCREENING_QUESTIONS = {
    "safe_now": "Safe right now",
    "thoughts": "Thoughts of killing themselves",
    "plan": "Thought about how / a plan",
    "intent": "Might act on the thoughts",
    "prepared": "Done or readied anything to end their life",
}
PLAN_LABELS = {
    "warning_signs": "Warning signs",
    "coping": "Coping steps",
    "places": "People and places that distract",
    "people": "People to ask for help",
    "professionals": "Professionals",
    "environment": "Making the surroundings safe",
    "reasons": "Reasons to live",
}


def flash(request: web.Request) -> str | None:
    return FLASH.get(request.query.get("done", ""))


async def visible_patient(
    session: AsyncSession, coach: Coach, raw_id: str, *, act: bool = False
) -> Patient:
    """The patient, or 404 (unknown) / 403 (another coach's patient, which is audited). `act`:
    the coach must be allowed to act for the patient, not only to read the record."""
    patient_id = raw_id.lower()
    patient = await session.get(Patient, patient_id) if UUID.match(patient_id) else None
    if patient is None or patient.status == PatientStatus.ERASED:
        raise PageError(404, "There is no patient with that id.")
    if not await accounts.may_see_patient(session, coach, patient):
        raise PageError(
            403,
            "This patient is in another coach's caseload. Ask a supervisor if you need access.",
            denied=(coach.id, patient.id),
        )
    if act and not await accounts.may_act_for_patient(session, coach, patient):
        raise PageError(
            403,
            "You can read this record and add notes, but the patient is in another coach's "
            "caseload. Ask a supervisor if you need to act for them.",
            denied=(coach.id, patient.id),
        )
    return patient


async def queue_page(request: web.Request) -> web.Response:
    tandem = tandem_of(request)
    async with tandem.db.session() as session:
        rows = await queries.queue(session, request[COACH])
    return render(request, "queue.html", rows=rows, flash=flash(request))


async def queue_rows(request: web.Request) -> web.Response:
    tandem = tandem_of(request)
    async with tandem.db.session() as session:
        rows = await queries.queue(session, request[COACH])
    return render_fragment(
        "_queue_rows.html",
        rows=rows,
        now=tandem.clock.now(),
        csrf=request[CSRF],
        guidance=tandem.settings.safeguarding_guidance,
    )


async def caseload_page(request: web.Request) -> web.Response:
    tandem = tandem_of(request)
    everyone = request.query.get("all") == "1"
    match = request.query.get("q", "")[:80]
    async with tandem.db.session() as session:
        rows = await queries.caseload(session, request[COACH], tandem.clock.now(), everyone, match)
    return render(request, "caseload.html", rows=rows, everyone=everyone, match=match.strip())


async def patient_page(
    request: web.Request,
    patient_id: str | None = None,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> web.Response:
    """The patient's record; every rendering is written to the audit log."""
    tandem = tandem_of(request)
    coach = request[COACH]
    now = tandem.clock.now()
    async with tandem.db.session() as session, session.begin():
        patient = await visible_patient(session, coach, patient_id or request.match_info["id"])
        record = await queries.record(session, patient)
        lines = await queries.transcript(session, patient.id)
        coaches = await queries.active_coaches(session) if accounts.sees_all(coach) else []
        can_act = await accounts.may_act_for_patient(session, coach, patient)
        await accounts.record_view(session, coach, patient.id, "record", now)
    charts = {
        mid: trend_svg(mid, record.trends[mid], f"{label} totals over time")
        for mid, label in queries.TRENDED
    }
    return render(
        request,
        "patient.html",
        status,
        r=record,
        p=record.patient,
        lines=lines,
        charts=charts,
        labels=dict(queries.TRENDED),
        plan_sections=[(PLAN_LABELS[s], record.plan.get(s)) for s in PLAN_SECTIONS],
        screening_questions=SCREENING_QUESTIONS,
        coaches=coaches,
        errors=errors or {},
        values=values or {},
        flash=None if errors else flash(request),
        mine=record.takeover is not None and record.takeover.coach_id == coach.id,
        # The hand-back form only while a takeover is open, for whom may end it: the coach who
        # took over, or a supervisor or admin (bot/coaching/takeover.release).
        may_hand_back=record.takeover is not None
        and can_act
        and (record.takeover.coach_id == coach.id or accounts.sees_all(coach)),
        can_act=can_act,
    )


async def transcript_fragment(request: web.Request) -> web.Response:
    tandem = tandem_of(request)
    coach = request[COACH]
    now = tandem.clock.now()
    async with tandem.db.session() as session, session.begin():
        patient = await visible_patient(session, coach, request.match_info["id"])
        lines = await queries.transcript(session, patient.id)
        await accounts.record_view(session, coach, patient.id, "transcript", now)
    return render_fragment("_transcript.html", lines=lines)


async def templates_page(
    request: web.Request,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> web.Response:
    tandem = tandem_of(request)
    async with tandem.db.session() as session:
        rows = await session.execute(
            select(MessageTemplate).order_by(MessageTemplate.locale, MessageTemplate.title)
        )
        templates = list(rows.scalars())
        names = await queries.coach_names(session)
    return render(
        request,
        "templates.html",
        status,
        templates=templates,
        names=names,
        errors=errors or {},
        values=values or {},
        flash=None if errors else flash(request),
    )


async def team_page(
    request: web.Request, *, status: int = 200, errors: dict[str, str] | None = None
) -> web.Response:
    tandem = tandem_of(request)
    async with tandem.db.session() as session:
        coaches = await queries.active_coaches(session)
    names = {c.id: c.name for c in coaches}
    return render(
        request,
        "team.html",
        status,
        coaches=coaches,
        names=names,
        errors=errors or {},
        flash=None if errors else flash(request),
    )
