"""Every /api/v1 endpoint with good and bad input, and authorization across two coaches."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.coaching import escalations
from bot.service import Tandem
from storage.models import Escalation, Event, OutboxItem, Patient
from tests.bot.api.conftest import Staff, auth
from tests.helpers import say

Client = TestClient[web.Request, web.Application]
PHONE = "+14155550123"
UNKNOWN = "00000000-0000-4000-8000-000000000000"


async def enrol(client: Client, token: str, **fields: Any) -> str:
    body = {"channel": "sms", "address": PHONE, **fields}
    response = await client.post("/api/v1/patients", json=body, headers=auth(token))
    assert response.status == 201, await response.text()
    return str((await response.json())["id"])


async def error(response: Any, status: int) -> str:
    assert response.status == status, await response.text()
    data = await response.json()
    assert data["status"] == status and data["error"]
    return str(data["error"])


async def test_enrol_starts_onboarding_and_conflicts_on_second_enrolment(
    client: Client, tandem: Tandem, staff: Staff
) -> None:
    patient_id = await enrol(client, staff.kim, locale="es", checkin_time="09:30", program="ba")
    async with tandem.db.session() as session:
        patient = await session.get(Patient, patient_id)
        assert patient is not None
        assert (patient.locale, patient.checkin_time, patient.program) == ("es", "09:30", "ba")
        assert patient.coach_id == staff.kim_id and patient.timezone == "America/Los_Angeles"
        bodies = list((await session.execute(select(OutboxItem.body))).scalars())
    assert any("SÍ" in b or "join" in b.lower() or "unirte" in b.lower() for b in bodies)
    again = await client.post(
        "/api/v1/patients",
        json={"channel": "sms", "address": "(415) 555-0123"},
        headers=auth(staff.kim),
    )
    assert "E.164" in await error(again, 422)
    dup = await client.post(
        "/api/v1/patients",
        json={"channel": "sms", "address": "+1 415 555 0123"},
        headers=auth(staff.lee),
    )
    assert "already enrolled" in await error(dup, 409)


async def test_consent_outside_chat_skips_the_consent_question(
    client: Client, tandem: Tandem, staff: Staff
) -> None:
    consent = {"obtained_at": "2026-03-01T10:00:00Z", "method": "paper", "by": "Dr Ruiz"}
    patient_id = await enrol(client, staff.kim, consent=consent)
    async with tandem.db.session() as session:
        patient = await session.get(Patient, patient_id)
        assert patient is not None and patient.consent_given is True
        assert (patient.consent_method, patient.consent_by) == ("paper", "Dr Ruiz")
        bodies = list((await session.execute(select(OutboxItem.body))).scalars())
    assert bodies[-1].startswith("Welcome! What name")
    assert not any("Reply YES to agree" in b for b in bodies)


async def test_enrol_rejects_invalid_fields(client: Client, staff: Staff) -> None:
    cases = [
        ({"channel": "fax", "address": PHONE}, "channel"),
        ({"channel": "sms", "address": "12345"}, "address"),
        ({"channel": "telegram", "address": "@bob"}, "Telegram"),
        ({"channel": "sms", "address": PHONE, "checkin_time": "25:00"}, "checkin_time"),
        ({"channel": "sms", "address": PHONE, "timezone": "Mars/Base"}, "timezone"),
        ({"channel": "sms", "address": PHONE, "locale": "fr"}, "locale"),
        ({"channel": "sms", "address": PHONE, "extra": 1}, "extra"),
        (
            {"channel": "sms", "address": PHONE, "consent": {"obtained_at": "2026-03-01T10:00"}},
            "consent",
        ),
        ({"address": PHONE}, "channel"),
    ]
    for body, mention in cases:
        response = await client.post("/api/v1/patients", json=body, headers=auth(staff.kim))
        assert mention in await error(response, 422), body
    response = await client.post("/api/v1/patients", data=b"{nope", headers=auth(staff.kim))
    await error(response, 400)
    response = await client.post("/api/v1/patients", json=[1], headers=auth(staff.kim))
    await error(response, 422)


async def test_tokens_are_required_and_checked(client: Client, staff: Staff) -> None:
    for method, path in [
        ("GET", "/api/v1/patients/" + UNKNOWN),
        ("POST", "/api/v1/patients"),
        ("GET", "/api/v1/escalations"),
        ("POST", "/api/v1/escalations/1/acknowledge"),
    ]:
        response = await client.request(method, path)
        await error(response, 401)
        assert response.headers["WWW-Authenticate"] == "Bearer"
        response = await client.request(method, path, headers=auth("tdm_wrong"))
        await error(response, 401)
    response = await client.get("/api/v1/openapi.json")
    assert response.status == 200 and (await response.json())["openapi"].startswith("3.")


async def test_lookup_view_and_messages_with_authorization(
    client: Client, tandem: Tandem, staff: Staff
) -> None:
    patient_id = await enrol(client, staff.kim)
    url = f"/api/v1/patients/{patient_id}"
    response = await client.get(url, headers=auth(staff.kim))
    assert response.status == 200 and (await response.json())["address"] == PHONE
    await error(await client.get(url, headers=auth(staff.lee)), 403)
    assert (await client.get(url, headers=auth(staff.boss))).status == 200
    await error(await client.get("/api/v1/patients/" + UNKNOWN, headers=auth(staff.kim)), 404)
    await error(await client.get("/api/v1/patients/not-an-id", headers=auth(staff.kim)), 404)
    found = await client.get(
        "/api/v1/patients", params={"channel": "sms", "address": PHONE}, headers=auth(staff.kim)
    )
    assert (await found.json())["id"] == patient_id
    missing = await client.get(
        "/api/v1/patients",
        params={"channel": "sms", "address": "+14155550199"},
        headers=auth(staff.kim),
    )
    await error(missing, 404)
    await error(await client.get("/api/v1/patients", headers=auth(staff.kim)), 422)
    messages = await client.get(url + "/messages", headers=auth(staff.kim))
    listed = (await messages.json())["messages"]
    assert listed and {m["sender"] for m in listed} == {"bot"}
    await error(await client.get(url + "/messages?limit=0", headers=auth(staff.kim)), 422)
    await error(await client.get(url + "/messages?after=x", headers=auth(staff.kim)), 422)
    await error(await client.get(url + "/messages", headers=auth(staff.lee)), 403)
    async with tandem.db.session() as session:
        views = (
            await session.execute(select(Event.data).where(Event.kind == "record_viewed"))
        ).scalars()
        assert {(v["coach_id"], v["what"]) for v in views} >= {
            (staff.kim_id, "profile"),
            (staff.kim_id, "messages"),
        }


async def test_takeover_message_release_over_the_api(
    client: Client, tandem: Tandem, staff: Staff
) -> None:
    patient_id = await enrol(client, staff.kim)
    url = f"/api/v1/patients/{patient_id}"
    response = await client.post(url + "/messages", json={"text": "hi"}, headers=auth(staff.kim))
    assert "take the conversation over" in await error(response, 409)
    await error(await client.post(url + "/takeover", headers=auth(staff.lee)), 403)
    await error(
        await client.post(f"/api/v1/patients/{UNKNOWN}/takeover", headers=auth(staff.kim)), 404
    )
    response = await client.post(url + "/takeover", headers=auth(staff.kim))
    assert response.status == 200 and (await response.json())["coach_id"] == staff.kim_id
    await error(await client.post(url + "/takeover", headers=auth(staff.boss)), 409)
    for invalid in [{"text": ""}, {"text": "   "}, {"txt": "x"}, {"text": "x" * 1601}]:
        await error(
            await client.post(url + "/messages", json=invalid, headers=auth(staff.kim)), 422
        )
    response = await client.post(
        url + "/messages", json={"text": "Hi, Kim here"}, headers=auth(staff.kim)
    )
    sent = await response.json()
    assert response.status == 201 and (sent["sender"], sent["coach_id"]) == ("coach", staff.kim_id)
    await say(tandem, "thanks Kim", address=PHONE, channel="sms")
    listed = (await (await client.get(url + "/messages", headers=auth(staff.kim))).json())[
        "messages"
    ]
    assert [m["sender"] for m in listed[-2:]] == ["coach", "patient"]
    bad = await client.post(url + "/release", json={"resume": "nowhere"}, headers=auth(staff.kim))
    await error(bad, 422)
    response = await client.post(
        url + "/release", json={"outcome": "checked in, fine"}, headers=auth(staff.kim)
    )
    body = await response.json()
    assert response.status == 200 and body["ended_at"] and body["outcome"] == "checked in, fine"
    await error(await client.post(url + "/release", headers=auth(staff.kim)), 409)


async def test_escalations_list_and_acknowledge(
    client: Client, tandem: Tandem, staff: Staff
) -> None:
    kims = await enrol(client, staff.kim)
    await say(tandem, "i want to kill myself", address=PHONE, channel="sms")
    pool = await say(tandem, "can i talk to a person", address="+14155550188", channel="sms")
    listed = await (await client.get("/api/v1/escalations", headers=auth(staff.kim))).json()
    assert [(e["patient_id"], e["priority"]) for e in listed["escalations"]] == [
        (kims, "urgent"),
        (pool.patient_id, "normal"),
    ]
    lees = await (await client.get("/api/v1/escalations", headers=auth(staff.lee))).json()
    assert [e["patient_id"] for e in lees["escalations"]] == [pool.patient_id]
    await error(await client.get("/api/v1/escalations?status=bogus", headers=auth(staff.kim)), 422)
    async with tandem.db.session() as session:
        risk_id = await session.scalar(select(Escalation.id).where(Escalation.patient_id == kims))
    ack = f"/api/v1/escalations/{risk_id}/acknowledge"
    await error(await client.post(ack, headers=auth(staff.lee)), 403)
    response = await client.post(ack, headers=auth(staff.kim))
    body = await response.json()
    assert response.status == 200 and body["status"] == "acknowledged"
    assert body["acknowledged_by"] == staff.kim_id
    await error(
        await client.post("/api/v1/escalations/999/acknowledge", headers=auth(staff.kim)), 404
    )
    await error(
        await client.post("/api/v1/escalations/abc/acknowledge", headers=auth(staff.kim)), 404
    )
    acked = await client.get("/api/v1/escalations?status=acknowledged", headers=auth(staff.kim))
    assert [e["id"] for e in (await acked.json())["escalations"]] == [risk_id]
    # Releasing resolves it; a resolved escalation cannot be acknowledged again.
    await client.post(f"/api/v1/patients/{kims}/release", headers=auth(staff.kim))
    await error(await client.post(ack, headers=auth(staff.kim)), 409)


async def test_the_coach_who_handled_a_risk_case_keeps_read_access_after_hand_back(
    client: Client, tandem: Tandem, staff: Staff
) -> None:
    pool = await say(tandem, "i want to kill myself", address=PHONE, channel="sms")
    url = f"/api/v1/patients/{pool.patient_id}"
    response = await client.post(url + "/takeover", headers=auth(staff.kim))
    assert response.status == 200
    response = await client.post(
        url + "/release", json={"outcome": "safe"}, headers=auth(staff.kim)
    )
    assert response.status == 200
    # Kim handled it: she still reads the patient, the transcript and the notes, and adds notes.
    assert (await client.get(url, headers=auth(staff.kim))).status == 200
    listed = await client.get(url + "/messages", headers=auth(staff.kim))
    assert listed.status == 200
    assert "i want to kill myself" in [m["body"] for m in (await listed.json())["messages"]]
    note = await client.post(
        url + "/notes", json={"text": "Called back next day."}, headers=auth(staff.kim)
    )
    assert note.status == 201 and (await note.json())["coach_id"] == staff.kim_id
    await error(await client.post(url + "/notes", json={"text": " "}, headers=auth(staff.kim)), 422)
    notes = await (await client.get(url + "/notes", headers=auth(staff.kim))).json()
    assert [n["body"] for n in notes["notes"]] == ["Called back next day."]
    # ...but no longer acts for the patient, who is in nobody's caseload.
    assert "read" in await error(await client.post(url + "/takeover", headers=auth(staff.kim)), 403)
    # Lee never handled the patient: 403 on everything.
    for path in ("", "/messages", "/notes"):
        await error(await client.get(url + path, headers=auth(staff.lee)), 403)
    await error(await client.post(url + "/notes", json={"text": "x"}, headers=auth(staff.lee)), 403)
    async with tandem.db.session() as session:
        views = (
            await session.execute(
                select(Event.data).where(
                    Event.kind == "record_viewed", Event.patient_id == pool.patient_id
                )
            )
        ).scalars()
        assert {"profile", "messages", "notes"} <= {v["what"] for v in views}


async def test_safeguarding_flag_and_guidance_in_the_escalation_json(
    client: Client, tandem: Tandem, staff: Staff
) -> None:
    tandem.settings.safeguarding_guidance = "Call the county child-protection line, then Dr Ruiz."
    plain = await say(tandem, "can i talk to a person", address="+14155550188", channel="sms")
    child = await say(tandem, "hello", address=PHONE, channel="sms")
    async with tandem.db.session() as session, session.begin():
        await escalations.open_escalation(
            session,
            child.patient_id,
            "risk",
            "urgent",
            "child sexual abuse: 'my stepdad comes in at night'",
            tandem.clock.now(),
            safeguarding=True,
        )
    listed = await (await client.get("/api/v1/escalations", headers=auth(staff.kim))).json()
    found = {e["patient_id"]: e for e in listed["escalations"]}
    marked, other = found[child.patient_id], found[plain.patient_id]
    assert marked["safeguarding"] is True and marked["alerted"] == "coach"
    assert marked["safeguarding_guidance"] == "Call the county child-protection line, then Dr Ruiz."
    assert "my stepdad comes in at night" in marked["detail"]
    assert other["safeguarding"] is False and other["safeguarding_guidance"] is None
    ack = await client.post(
        f"/api/v1/escalations/{marked['id']}/acknowledge", headers=auth(staff.kim)
    )
    assert (await ack.json())["safeguarding_guidance"].startswith("Call the county")
