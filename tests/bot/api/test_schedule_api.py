"""Moving a check-in, changing the time zone, pausing and resuming through /api/v1: good and
bad input, authorization across two coaches, the audit trail, and the check-in firing there."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from bot.clock import FakeClock
from bot.service import Tandem
from storage.models import Event, Patient
from tests.bot.api.conftest import Staff, auth
from tests.bot.api.test_api import UNKNOWN, enrol, error
from tests.bot.scheduling.sim import run_until

Client = TestClient[web.Request, web.Application]
LA, NY = ZoneInfo("America/Los_Angeles"), ZoneInfo("America/New_York")


async def events(tandem: Tandem, patient_id: str, kind: str) -> list[dict[str, Any]]:
    async with tandem.db.session() as session:
        rows = await session.execute(
            select(Event.data).where(Event.patient_id == patient_id, Event.kind == kind)
        )
        return [dict(d) for d in rows.scalars()]


async def test_checkin_time_moves_and_is_audited(
    client: Client, tandem: Tandem, staff: Staff
) -> None:
    patient_id = await enrol(client, staff.kim)
    url = f"/api/v1/patients/{patient_id}/checkin-time"
    response = await client.put(url, json={"checkin_time": "09:30"}, headers=auth(staff.kim))
    assert response.status == 200, await response.text()
    data = await response.json()
    assert data["checkin_time"] == "09:30" and data["timezone"] == "America/Los_Angeles"
    at = datetime.fromisoformat(data["next_checkin_at"]).astimezone(LA)
    assert (at.hour, at.minute) == (9, 30)
    audit = await events(tandem, patient_id, "checkin_time_set")
    assert audit == [{"local_time": "09:30", "by": f"coach:{staff.kim_id}"}]


async def test_timezone_change_re_arms_the_checkin_which_fires_there(
    client: Client, tandem: Tandem, staff: Staff, clock: FakeClock
) -> None:
    patient_id = await enrol(client, staff.kim, timezone="America/New_York")
    async with tandem.db.session() as session, session.begin():
        # Onboarding done elsewhere: consent, so the scheduled check-in may start.
        await session.execute(
            update(Patient).where(Patient.id == patient_id).values(consent_given=True)
        )
    base = f"/api/v1/patients/{patient_id}"
    first = await client.put(
        base + "/checkin-time", json={"checkin_time": "09:00"}, headers=auth(staff.kim)
    )
    at = datetime.fromisoformat((await first.json())["next_checkin_at"])
    assert at.astimezone(NY).hour == 9
    moved = await client.put(
        base + "/timezone", json={"timezone": "America/Los_Angeles"}, headers=auth(staff.kim)
    )
    assert moved.status == 200, await moved.text()
    data = await moved.json()
    assert (data["timezone"], data["timezone_confirmed"]) == ("America/Los_Angeles", True)
    at = datetime.fromisoformat(data["next_checkin_at"])
    assert at.astimezone(LA).replace(tzinfo=None) == datetime(2026, 3, 2, 9, 0)
    audit = await events(tandem, patient_id, "timezone_set")
    assert audit[-1]["by"] == f"coach:{staff.kim_id}"
    assert (audit[-1]["from"], audit[-1]["to"]) == ("America/New_York", "America/Los_Angeles")
    await run_until(tandem, clock, clock.now() + timedelta(days=1))
    async with tandem.db.session() as session:
        fired = list(
            (
                await session.execute(
                    select(Event.at).where(
                        Event.patient_id == patient_id, Event.kind == "schedule_fired"
                    )
                )
            ).scalars()
        )
    assert [f"{t.astimezone(LA):%H:%M}" for t in fired] == ["09:00"]


async def test_pause_and_resume(client: Client, tandem: Tandem, staff: Staff) -> None:
    patient_id = await enrol(client, staff.kim)
    base = f"/api/v1/patients/{patient_id}"
    paused = await client.post(base + "/pause", json={"days": 7}, headers=auth(staff.kim))
    assert paused.status == 200, await paused.text()
    data = await paused.json()
    until = datetime.fromisoformat(data["paused_until"])
    assert data["status"] == "paused" and until == tandem.clock.now() + timedelta(days=7)
    open_ended = await client.post(base + "/pause", headers=auth(staff.kim))
    assert (await open_ended.json())["paused_until"] is None
    resumed = await client.post(base + "/resume", headers=auth(staff.kim))
    assert (await resumed.json())["status"] == "active"
    assert "not paused" in await error(
        await client.post(base + "/resume", headers=auth(staff.kim)), 409
    )
    by = f"coach:{staff.kim_id}"
    assert [e["days"] for e in await events(tandem, patient_id, "paused")] == [7, None]
    assert all(e["by"] == by for e in await events(tandem, patient_id, "paused"))
    assert await events(tandem, patient_id, "resumed") == [{"by": by}]


async def test_an_opted_out_patient_is_not_paused(
    client: Client, tandem: Tandem, staff: Staff
) -> None:
    patient_id = await enrol(client, staff.kim)
    async with tandem.db.session() as session, session.begin():
        await session.execute(
            update(Patient).where(Patient.id == patient_id).values(status="opted_out")
        )
    base = f"/api/v1/patients/{patient_id}"
    assert "opted_out" in await error(
        await client.post(base + "/pause", headers=auth(staff.kim)), 409
    )
    assert "opted_out" in await error(
        await client.post(base + "/resume", headers=auth(staff.kim)), 409
    )
    async with tandem.db.session() as session:
        patient = await session.get(Patient, patient_id)
        assert patient is not None and patient.status == "opted_out"


async def test_invalid_input_is_422_or_400(client: Client, staff: Staff) -> None:
    patient_id = await enrol(client, staff.kim)
    base = f"/api/v1/patients/{patient_id}"
    h = auth(staff.kim)
    for body, where in [
        ({"checkin_time": "25:00"}, "checkin_time"),
        ({"checkin_time": "9am"}, "checkin_time"),
        ({}, "checkin_time"),
        ({"checkin_time": "09:00", "extra": 1}, "extra"),
        ({"checkin_time": 900}, "checkin_time"),
    ]:
        assert where in await error(
            await client.put(base + "/checkin-time", json=body, headers=h), 422
        )
    for zone in ("Mars/Base", "localtime", "", "x" * 65, "Europe/Madrid\x00"):
        response = await client.put(base + "/timezone", json={"timezone": zone}, headers=h)
        assert "timezone" in await error(response, 422)
    for days in (0, 91, -1, "seven", 1.5):
        response = await client.post(base + "/pause", json={"days": days}, headers=h)
        assert "days" in await error(response, 422)
    not_json = await client.put(base + "/checkin-time", data=b"{", headers=h)
    assert "JSON" in await error(not_json, 400)
    listed = await client.post(base + "/pause", json=[1], headers=h)
    await error(listed, 422)


async def test_authorization_across_coaches(client: Client, tandem: Tandem, staff: Staff) -> None:
    patient_id = await enrol(client, staff.kim)
    base = f"/api/v1/patients/{patient_id}"
    calls = [
        ("put", "/checkin-time", {"checkin_time": "08:00"}),
        ("put", "/timezone", {"timezone": "Europe/Madrid"}),
        ("post", "/pause", {"days": 3}),
        ("post", "/resume", None),
    ]
    for method, path, body in calls:
        call = getattr(client, method)
        assert (await call(base + path, json=body)).status == 401
        bad_token = await call(base + path, json=body, headers=auth("nope"))
        await error(bad_token, 401)
        other = await call(base + path, json={"bogus": True}, headers=auth(staff.lee))
        assert "caseload" in await error(other, 403)  # 403 before the body is looked at
        missing = await call(
            f"/api/v1/patients/{UNKNOWN}{path}", json=body, headers=auth(staff.kim)
        )
        await error(missing, 404)
        garbage = await call(
            f"/api/v1/patients/not-an-id{path}", json=body, headers=auth(staff.kim)
        )
        await error(garbage, 404)
        ok = await call(base + path, json=body, headers=auth(staff.boss))  # supervisors may
        assert ok.status == 200, await ok.text()
    async with tandem.db.session() as session:
        patient = await session.get(Patient, patient_id)
        assert patient is not None
        assert (patient.checkin_time, patient.timezone, patient.status) == (
            "08:00",
            "Europe/Madrid",
            "active",
        )


async def test_an_opted_out_patient_keeps_no_checkin_time(
    client: Client, tandem: Tandem, staff: Staff
) -> None:
    patient_id = await enrol(client, staff.kim)
    async with tandem.db.session() as session, session.begin():
        await session.execute(
            update(Patient).where(Patient.id == patient_id).values(status="opted_out")
        )
    url = f"/api/v1/patients/{patient_id}/checkin-time"
    response = await client.put(url, json={"checkin_time": "09:30"}, headers=auth(staff.kim))
    assert "opted_out" in await error(response, 409)
