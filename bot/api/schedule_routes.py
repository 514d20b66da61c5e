"""REST handlers that change a patient's schedule: check-in time, time zone, pause, resume.

Same rules as the other /api/v1 routes (401, 403 another coach's patient, 404, 409, 422); each
change runs under the patient's lock through `bot.scheduling.control`, which logs it with the
coach's id (`by: "coach:<id>"`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.api import schemas as s
from bot.api.common import (
    COACH,
    PREFIX,
    ApiError,
    json_response,
    patient_id_of,
    read_body,
    tandem_of,
    visible_patient,
)
from bot.scheduling import control, store
from bot.scheduling.store import parse_hhmm
from storage import repo
from storage.models import Patient
from storage.statuses import ScheduleStatus

Change = Callable[[AsyncSession, Patient, str], Awaitable[None]]


async def _schedule_out(session: AsyncSession, patient: Patient) -> s.ScheduleOut:
    item = await store.find(session, patient.id, control.CHECKIN)
    active = item is not None and item.status == ScheduleStatus.ACTIVE
    return s.ScheduleOut(
        patient_id=patient.id,
        status=patient.status,
        timezone=patient.timezone,
        timezone_confirmed=patient.timezone_confirmed,
        checkin_time=patient.checkin_time,
        paused_until=patient.paused_until,
        next_checkin_at=item.next_fire_at if active and item is not None else None,
    )


async def _visible(request: web.Request) -> None:
    """403/404 before the body is looked at, as the other routes do."""
    async with tandem_of(request).db.session() as session:
        await visible_patient(session, request[COACH], patient_id_of(request), act=True)


async def _change(request: web.Request, apply: Change) -> web.Response:
    """Run `apply` on the locked patient; answer with the schedule as it now is."""
    async with tandem_of(request).db.session() as session, session.begin():
        patient = await repo.lock_patient(session, patient_id_of(request))
        if patient is None:
            raise ApiError(404, "no patient with that id")
        try:
            await apply(session, patient, f"coach:{request[COACH].id}")
        except control.PatientStateError as exc:
            raise ApiError(409, str(exc)) from exc
        await session.flush()
        return json_response(await _schedule_out(session, patient))


async def set_checkin_time(request: web.Request) -> web.Response:
    tandem = tandem_of(request)
    await _visible(request)
    body = await read_body(request, s.CheckinTime)

    async def apply(session: AsyncSession, patient: Patient, by: str) -> None:
        at, now = parse_hhmm(body.checkin_time), tandem.clock.now()
        await control.set_checkin_time(session, patient, at, now, tandem.settings, by=by)

    return await _change(request, apply)


async def set_timezone(request: web.Request) -> web.Response:
    tandem = tandem_of(request)
    await _visible(request)
    body = await read_body(request, s.TimezoneChange)

    async def apply(session: AsyncSession, patient: Patient, by: str) -> None:
        now = tandem.clock.now()
        await control.set_timezone(session, patient, body.timezone, now, tandem.settings, by=by)

    return await _change(request, apply)


async def pause(request: web.Request) -> web.Response:
    tandem = tandem_of(request)
    await _visible(request)
    body = await read_body(request, s.PauseRequest, optional=True)

    async def apply(session: AsyncSession, patient: Patient, by: str) -> None:
        await control.pause(session, patient, body.days, tandem.clock.now(), by=by)

    return await _change(request, apply)


async def resume(request: web.Request) -> web.Response:
    tandem = tandem_of(request)
    await _visible(request)

    async def apply(session: AsyncSession, patient: Patient, by: str) -> None:
        if not await control.resume(session, patient, tandem.clock.now(), by=by):
            raise ApiError(409, f"the patient is {patient.status}, not paused")

    return await _change(request, apply)


def add_routes(router: web.UrlDispatcher) -> None:
    base = PREFIX + "/patients/{id}"
    router.add_put(base + "/checkin-time", set_checkin_time)
    router.add_put(base + "/timezone", set_timezone)
    router.add_post(base + "/pause", pause)
    router.add_post(base + "/resume", resume)
