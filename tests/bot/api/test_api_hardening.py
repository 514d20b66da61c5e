"""REST API findings: refused accesses are audited, answers carry Cache-Control: no-store, and a
coach cannot tell "enrolled with another coach" from "not enrolled"."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.service import Tandem
from storage.models import Event
from tests.bot.api.conftest import Staff, auth
from tests.bot.api.test_api import PHONE, enrol

Client = TestClient[web.Request, web.Application]


async def test_403_is_audited_with_the_coach(client: Client, tandem: Tandem, staff: Staff) -> None:
    patient_id = await enrol(client, staff.kim)
    for path in ("", "/messages"):
        resp = await client.get(f"/api/v1/patients/{patient_id}{path}", headers=auth(staff.lee))
        assert resp.status == 403
    async with tandem.db.session() as session:
        rows = await session.execute(
            select(Event.patient_id, Event.data).where(Event.kind == "api_access_denied")
        )
        found = [(p, d["coach_id"], d["method"]) for p, d in rows.all()]
    assert found == [(patient_id, staff.lee_id, "GET")] * 2


async def test_patient_data_is_not_cached(client: Client, staff: Staff) -> None:
    patient_id = await enrol(client, staff.kim)
    for path in (f"/api/v1/patients/{patient_id}", f"/api/v1/patients/{patient_id}/messages"):
        resp = await client.get(path, headers=auth(staff.kim))
        assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
    resp = await client.get(f"/api/v1/patients/{patient_id}", headers=auth(staff.lee))
    assert resp.status == 403 and resp.headers["Cache-Control"] == "no-store"


async def test_enrolment_cannot_be_probed(client: Client, staff: Staff) -> None:
    await enrol(client, staff.kim)
    answers = []
    for address in (PHONE, "+14155550199"):
        resp = await client.get(
            "/api/v1/patients",
            params={"channel": "sms", "address": address},
            headers=auth(staff.lee),
        )
        answers.append((resp.status, await resp.json()))
    assert answers[0] == answers[1] and answers[0][0] == 404
    resp = await client.get(
        "/api/v1/patients", params={"channel": "sms", "address": PHONE}, headers=auth(staff.kim)
    )
    assert resp.status == 200
