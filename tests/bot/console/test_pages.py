"""Console pages across two coaches and a supervisor: who sees what, the audit of record views,
takeover / reply / hand-back, notes, trends, live events, and form validation."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.coaching import escalations
from bot.service import Tandem
from storage import repo
from storage.models import CoachNote, Escalation, Event, Message, MessageTemplate, Patient
from tests.bot.console.conftest import Client, Staff, login
from tests.helpers import outbound, say

RISK = "I want to kill myself"


async def _patient(tandem: Tandem, address: str, coach_id: str | None, name: str) -> str:
    receipt = await say(tandem, "hello", address=address)
    async with tandem.db.session() as session, session.begin():
        patient = await session.get(Patient, receipt.patient_id)
        assert patient is not None
        patient.coach_id, patient.display_name = coach_id, name
    return receipt.patient_id


async def _kinds(tandem: Tandem, kind: str) -> list[dict[str, Any]]:
    async with tandem.db.session() as session:
        rows = await session.execute(select(Event.data).where(Event.kind == kind))
        return list(rows.scalars())


async def test_coach_sees_own_and_pool_patients_only_supervisor_sees_all(
    client: Client, staff: Staff, tandem: Tandem
) -> None:
    alice = await _patient(tandem, "alice", staff.kim, "Alice")
    bob = await _patient(tandem, "bob", staff.lee, "Bob")
    pool = await _patient(tandem, "cleo", None, "Cleo")
    for address in ("alice", "bob", "cleo"):
        await say(tandem, RISK, address=address)

    await login(client, "kim@example.org")
    queue = await (await client.get("/console/")).text()
    assert "Alice" in queue and "Cleo" in queue and "Bob" not in queue
    assert (await client.get(f"/console/patients/{alice}")).status == 200
    assert (await client.get(f"/console/patients/{pool}")).status == 200  # pool escalation
    denied = await client.get(f"/console/patients/{bob}")
    assert denied.status == 403
    assert "in another coach" in await denied.text()
    assert (await client.get(f"/console/patients/{bob}/transcript")).status == 403
    assert [e["coach_id"] for e in await _kinds(tandem, "record_view_denied")] == [staff.kim] * 2

    await login(client, "boss@example.org")
    queue = await (await client.get("/console/")).text()
    assert all(name in queue for name in ("Alice", "Bob", "Cleo"))
    assert (await client.get(f"/console/patients/{bob}")).status == 200
    views = await _kinds(tandem, "record_viewed")
    assert [v["coach_id"] for v in views] == [staff.kim, staff.kim, staff.boss]


async def test_queue_orders_by_priority_then_due(
    client: Client, staff: Staff, tandem: Tandem
) -> None:
    await _patient(tandem, "dan", staff.kim, "Dan")
    await _patient(tandem, "eve", staff.kim, "Eve")
    await say(tandem, "can I talk to a person", address="dan")
    await say(tandem, RISK, address="eve")
    await login(client, "kim@example.org")
    html = await (await client.get("/console/")).text()
    assert html.index("Eve") < html.index("Dan")
    assert "15:00 left" in html  # the risk SLA, rendered server side before the script runs


async def test_every_page_renders(client: Client, staff: Staff, tandem: Tandem) -> None:
    alice = await _patient(tandem, "alice", staff.kim, "Alice")
    await login(client, "boss@example.org")
    for path in (
        "/console/",
        "/console/queue/rows",
        "/console/caseload",
        "/console/caseload?all=1",
        f"/console/patients/{alice}",
        f"/console/patients/{alice}/transcript",
        "/console/templates",
        "/console/team",
    ):
        response = await client.get(path)
        assert response.status == 200, path
        assert response.content_type == "text/html"
    caseload = await (await client.get("/console/caseload?all=1")).text()
    assert "Alice" in caseload and "Kim" in caseload
    assert (await client.get("/console/static/console.css")).status == 200


async def test_unknown_ids_get_a_clear_404_page(client: Client, staff: Staff) -> None:
    csrf = await login(client, "kim@example.org")
    for path in (
        "/console/patients/nope",
        "/console/patients/" + "0" * 8 + "-0000-4000-8000-" + "0" * 12,
    ):
        response = await client.get(path)
        assert response.status == 404 and "no patient with that id" in await response.text()
    for raw in ("x", "0", "99999999999999999999999", "5"):
        response = await client.post(f"/console/escalations/{raw}/acknowledge", data={"csrf": csrf})
        assert response.status == 404, raw
    response = await client.post("/console/templates/abc/delete", data={"csrf": csrf})
    assert response.status == 404
    assert (await client.get("/console/nowhere")).status == 404


async def test_takeover_reply_hand_back_and_the_bot_resumes(
    client: Client, staff: Staff, tandem: Tandem
) -> None:
    alice = await _patient(tandem, "alice", staff.kim, "Alice")
    await say(tandem, RISK, address="alice")
    csrf = await login(client, "kim@example.org")
    page = await (await client.get(f"/console/patients/{alice}")).text()
    assert "Take over the conversation" in page and "risk" in page

    response = await client.post(f"/console/patients/{alice}/takeover", data={"csrf": csrf})
    assert (
        response.status == 200 and "You have taken this conversation over" in await response.text()
    )
    response = await client.post(
        f"/console/patients/{alice}/reply", data={"csrf": csrf, "text": "Hi Alice, I'm here."}
    )
    html = await response.text()
    assert response.status == 200 and "Your message is queued" in html
    assert "Hi Alice, I&#39;m here." in html and "Kim (coach)" in html
    async with tandem.db.session() as session:
        sent = (
            await session.execute(select(Message).where(Message.body == "Hi Alice, I'm here."))
        ).scalar_one()
        assert sent.payload == f"coach:{staff.kim}" and sent.channel == "try"

    held = await say(tandem, "thank you", address="alice")
    assert held.message_id is not None
    assert await outbound(tandem, alice, after=held.message_id) == []  # the bot stays quiet

    response = await client.post(
        f"/console/patients/{alice}/release",
        data={"csrf": csrf, "resume": "flow", "outcome": "Talked it through; safe tonight."},
    )
    assert response.status == 200 and "Handed back" in await response.text()
    async with tandem.db.session() as session:
        esc = (await session.execute(select(Escalation))).scalar_one()
        assert esc.status == "resolved" and esc.outcome == "Talked it through; safe tonight."
        patient = await session.get(Patient, alice)
        assert patient is not None and not patient.bot_paused
    after = await say(tandem, "yes", address="alice")
    assert after.message_id is not None
    assert await outbound(tandem, alice, after=after.message_id)  # the flow answers again


async def test_acknowledge_from_the_queue(client: Client, staff: Staff, tandem: Tandem) -> None:
    await _patient(tandem, "alice", None, "Alice")
    await say(tandem, RISK, address="alice")
    csrf = await login(client, "kim@example.org")
    async with tandem.db.session() as session:
        esc_id = (await session.execute(select(Escalation.id))).scalar_one()
    response = await client.post(
        f"/console/escalations/{esc_id}/acknowledge", data={"csrf": csrf, "from": "queue"}
    )
    assert response.status == 200 and "Escalation acknowledged" in await response.text()
    async with tandem.db.session() as session:
        esc = await session.get(Escalation, esc_id)
        assert esc is not None and esc.status == "acknowledged" and esc.coach_id == staff.kim
    csrf = await login(client, "lee@example.org")
    response = await client.post(f"/console/escalations/{esc_id}/acknowledge", data={"csrf": csrf})
    assert response.status == 403


async def test_reply_needs_a_takeover_and_is_a_409_page_otherwise(
    client: Client, staff: Staff, tandem: Tandem
) -> None:
    alice = await _patient(tandem, "alice", staff.kim, "Alice")
    csrf = await login(client, "kim@example.org")
    response = await client.post(
        f"/console/patients/{alice}/reply", data={"csrf": csrf, "text": "hi"}
    )
    assert response.status == 409 and "take the conversation over" in await response.text()


async def test_form_validation_gives_clear_messages(
    client: Client, staff: Staff, tandem: Tandem
) -> None:
    alice = await _patient(tandem, "alice", staff.kim, "Alice")
    csrf = await login(client, "kim@example.org")
    await client.post(f"/console/patients/{alice}/takeover", data={"csrf": csrf})
    cases: list[tuple[str, dict[str, str], int, str]] = [
        (f"patients/{alice}/reply", {"text": "  "}, 422, "Message must not be empty"),
        (f"patients/{alice}/reply", {"text": "x" * 1601}, 422, "at most 1600 characters"),
        (f"patients/{alice}/reply", {"text": "bad\x00"}, 422, "cannot be sent"),
        (f"patients/{alice}/release", {"resume": "flow"}, 422, "Outcome note must not be empty"),
        (f"patients/{alice}/release", {"resume": "x", "outcome": "ok"}, 422, "Resume: choose"),
        (f"patients/{alice}/notes", {"note": ""}, 422, "Note must not be empty"),
        (
            f"patients/{alice}/schedule",
            {"action": "checkin", "checkin_time": "soon"},
            422,
            "like 09:00",
        ),
        (f"patients/{alice}/schedule", {"action": "pause", "days": "500"}, 422, "from 1 to 90"),
        (f"patients/{alice}/schedule", {"action": "explode"}, 422, "Action: choose"),
        (f"patients/{alice}/coach", {"coach_id": staff.lee}, 403, "Only supervisors"),
        ("templates", {"locale": "fr", "title": "t", "body": "b"}, 422, "Language: choose"),
        ("templates", {"locale": "en", "title": "", "body": "b"}, 422, "Title must not be empty"),
        ("team/availability", {"available": "maybe"}, 422, "Availability: choose"),
        (f"team/{staff.lee}/backup", {"backup_id": staff.kim}, 403, "Only supervisors"),
    ]
    for path, data, status, message in cases:
        response = await client.post(f"/console/{path}", data={"csrf": csrf, **data})
        html = await response.text()
        assert response.status == status, (path, data, html[-800:])
        assert message in html, (path, data)
    # The typed text is kept when a form comes back with an error.
    response = await client.post(
        f"/console/patients/{alice}/reply", data={"csrf": csrf, "text": "y" * 1601}
    )
    assert "y" * 1601 in await response.text()

    csrf = await login(client, "boss@example.org")
    bad = [
        (f"patients/{alice}/coach", {"coach_id": "nobody"}, "Choose an active coach"),
        (f"team/{staff.lee}/backup", {"backup_id": staff.lee}, "Choose another active coach"),
        ("team/nobody/backup", {"backup_id": ""}, "no active coach"),
    ]
    for path, data, message in bad:
        response = await client.post(f"/console/{path}", data={"csrf": csrf, **data})
        assert response.status in (404, 422) and message in await response.text(), path


async def test_notes_reassign_schedule_availability_backup_templates(
    client: Client, staff: Staff, tandem: Tandem
) -> None:
    alice = await _patient(tandem, "alice", staff.kim, "Alice")
    await say(tandem, "can I talk to a person", address="alice")
    csrf = await login(client, "kim@example.org")
    response = await client.post(
        f"/console/patients/{alice}/notes", data={"csrf": csrf, "note": "Prefers evenings."}
    )
    assert response.status == 200 and "Prefers evenings." in await response.text()
    response = await client.post(
        f"/console/patients/{alice}/schedule",
        data={"csrf": csrf, "action": "checkin", "checkin_time": "7:30pm"},
    )
    assert "Daily check-in time changed" in await response.text()
    response = await client.post(
        f"/console/patients/{alice}/schedule", data={"csrf": csrf, "action": "pause", "days": "3"}
    )
    assert "Paused until" in await response.text()
    response = await client.post(
        "/console/team/availability", data={"csrf": csrf, "available": "no"}
    )
    assert "You are <strong>away</strong>" in await response.text()
    response = await client.post(
        "/console/templates",
        data={"csrf": csrf, "locale": "en", "title": "Hello", "body": "Hi, it's your coach."},
    )
    assert "Hi, it&#39;s your coach." in await response.text()
    await client.post(f"/console/patients/{alice}/takeover", data={"csrf": csrf})
    page = await (await client.get(f"/console/patients/{alice}")).text()
    assert 'data-template-target="reply-text"' in page and ">Hello</option>" in page

    csrf = await login(client, "lee@example.org")
    async with tandem.db.session() as session:
        template_id = (await session.execute(select(MessageTemplate.id))).scalar_one()
    response = await client.post(f"/console/templates/{template_id}/delete", data={"csrf": csrf})
    assert response.status == 403

    csrf = await login(client, "boss@example.org")
    response = await client.post(
        f"/console/patients/{alice}/coach", data={"csrf": csrf, "coach_id": staff.lee}
    )
    assert "The patient&#39;s coach was changed" in await response.text()
    response = await client.post(
        f"/console/team/{staff.kim}/backup", data={"csrf": csrf, "backup_id": staff.lee}
    )
    assert response.status == 200 and "Backup updated" in await response.text()
    async with tandem.db.session() as session:
        patient = await session.get(Patient, alice)
        assert patient is not None and patient.coach_id == staff.lee
        assert patient.checkin_time == "19:30" and patient.status == "paused"
        esc = (await session.execute(select(Escalation))).scalar_one()
        assert esc.coach_id == staff.lee  # open escalations follow the patient
        notes = list((await session.execute(select(CoachNote.body))).scalars())
        assert notes == ["Prefers evenings."]
    kinds = {k for (k,) in (await _all_kinds(tandem))}
    assert {"coach_note_added", "patient_reassigned", "coach_backup_set", "paused"} <= kinds
    # Alice is Lee's now, but Kim took her conversation over: she keeps the record.
    await login(client, "kim@example.org")
    assert (await client.get(f"/console/patients/{alice}")).status == 200


async def _all_kinds(tandem: Tandem) -> list[tuple[str]]:
    async with tandem.db.session() as session:
        return [(k,) for k in (await session.execute(select(Event.kind))).scalars()]


async def test_trend_chart_and_item9_flag(client: Client, staff: Staff, tandem: Tandem) -> None:
    alice = await _patient(tandem, "alice", staff.kim, "Alice")
    now = tandem.clock.now()
    async with tandem.db.session() as session, session.begin():
        await repo.log(
            session, now, "measure_total", alice, {"measure": "phq9", "total": 8, "band": "mild"}
        )
        await repo.log(session, now, "measure", alice, {"measure": "phq9", "item": 9, "value": 2})
        await repo.log(
            session,
            now,
            "measure_total",
            alice,
            {"measure": "phq9", "total": 19, "band": "moderately severe"},
        )
        await repo.log(
            session,
            now,
            "measure_total",
            alice,
            {"measure": "gad7", "total": 11, "band": "moderate"},
        )
    await login(client, "kim@example.org")
    html = await (await client.get(f"/console/patients/{alice}")).text()
    assert html.count("<svg") == 2 and "<polyline" in html
    assert 'fill="#b00020"' in html  # the flagged completion
    assert "PHQ-9 item 9 above 0" in html and "19 (item 9)" in html
    assert "moderately severe 15-19" in html
    caseload = await (await client.get("/console/caseload")).text()
    assert "item 9" in caseload


async def test_live_feed_announces_new_escalations_and_logs_off_when_idle(
    client: Client, staff: Staff, tandem: Tandem, clock: FakeClock
) -> None:
    await _patient(tandem, "alice", staff.kim, "Alice")
    await _patient(tandem, "bob", staff.lee, "Bob")
    await login(client, "kim@example.org")
    response = await client.get("/console/events")
    assert response.headers["Content-Type"] == "text/event-stream"

    async def read_until(marker: bytes) -> bytes:
        seen = b""
        while marker not in seen:
            seen += await response.content.readany()
        return seen

    await say(tandem, RISK, address="bob")  # Lee's patient: not for Kim
    await say(tandem, RISK, address="alice")
    seen = await asyncio.wait_for(read_until(b"event: escalation_opened"), 5)
    assert seen.count(b"event: escalation_opened") == 1
    clock.advance(timedelta(minutes=20))
    await asyncio.wait_for(read_until(b"event: logout"), 5)
    response.close()


async def test_the_coach_who_took_a_pool_risk_case_keeps_the_record_after_hand_back(
    client: Client, staff: Staff, tandem: Tandem
) -> None:
    cleo = await _patient(tandem, "cleo", None, "Cleo")
    await say(tandem, RISK, address="cleo")
    csrf = await login(client, "kim@example.org")
    response = await client.post(f"/console/patients/{cleo}/takeover", data={"csrf": csrf})
    assert response.status == 200  # acknowledged by Kim: no longer in the pool, still hers
    response = await client.post(
        f"/console/patients/{cleo}/reply", data={"csrf": csrf, "text": "I'm here."}
    )
    assert response.status == 200
    await login(client, "lee@example.org")
    assert (await client.get(f"/console/patients/{cleo}")).status == 403
    csrf = await login(client, "kim@example.org")
    response = await client.post(
        f"/console/patients/{cleo}/release",
        data={"csrf": csrf, "resume": "flow", "outcome": "ok"},
        allow_redirects=False,
    )
    assert response.headers["Location"] == f"/console/patients/{cleo}?done=release"
    # After the hand-back Kim still reads the record and adds notes, but no longer acts.
    page = await client.get(f"/console/patients/{cleo}")
    assert page.status == 200 and "I&#39;m here." in await page.text()
    assert "you can read the record and add notes" in await page.text()
    response = await client.post(
        f"/console/patients/{cleo}/notes", data={"csrf": csrf, "note": "Called back, safe."}
    )
    assert response.status == 200 and "Called back, safe." in await response.text()
    response = await client.post(f"/console/patients/{cleo}/takeover", data={"csrf": csrf})
    assert response.status == 403
    transcript = await client.get(f"/console/patients/{cleo}/transcript")
    assert transcript.status == 200
    # Lee never handled Cleo: still refused, and the refusal is audited.
    await login(client, "lee@example.org")
    assert (await client.get(f"/console/patients/{cleo}")).status == 403
    async with tandem.db.session() as session:
        denied = await session.scalar(
            select(func.count()).select_from(Event).where(Event.kind == "record_view_denied")
        )
        views = (
            await session.execute(
                select(Event.data).where(Event.kind == "record_viewed", Event.patient_id == cleo)
            )
        ).scalars()
    assert denied == 3  # Lee twice, and the takeover Kim may no longer start
    assert {"record", "transcript"} <= {v["what"] for v in views if v["coach_id"] == staff.kim}


async def test_safeguarding_flag_and_guidance_on_the_queue_and_the_patient_page(
    client: Client, staff: Staff, tandem: Tandem
) -> None:
    tandem.settings.safeguarding_guidance = "Report to the county child-protection line."
    dana = await _patient(tandem, "dana", staff.kim, "Dana")
    eve = await _patient(tandem, "eve", staff.kim, "Eve")
    async with tandem.db.session() as session, session.begin():
        now = tandem.clock.now()
        await escalations.open_escalation(
            session, dana, "risk", "urgent", "child abuse: 'he hits me'", now, safeguarding=True
        )
        await escalations.open_escalation(session, eve, "human_request", "normal", "", now)
    await login(client, "kim@example.org")
    queue = await (await client.get("/console/")).text()
    assert queue.count('class="badge safeguarding"') == 1
    assert "Report to the county child-protection line." in queue
    rows = await (await client.get("/console/queue/rows")).text()
    assert "Report to the county child-protection line." in rows
    page = await (await client.get(f"/console/patients/{dana}")).text()
    assert 'id="safeguarding"' in page and "Report to the county child-protection line." in page
    assert "he hits me" in page  # the detector's evidence, for the coach
    other = await (await client.get(f"/console/patients/{eve}")).text()
    assert "safeguarding" not in other


async def test_the_safety_check_answers_on_the_patient_page(
    client: Client, staff: Staff, tandem: Tandem
) -> None:
    fay = await _patient(tandem, "fay", staff.kim, "Fay")
    for text in [RISK, "yes", "sometimes", "no", "no", "no"]:
        await say(tandem, text, address="fay")
    await login(client, "kim@example.org")
    page = await (await client.get(f"/console/patients/{fay}")).text()
    assert "Safety check: <strong>moderate</strong>" in page
    assert "Thoughts of killing themselves: <strong>yes</strong>" in page
    assert "Done or readied anything to end their life: <strong>no</strong>" in page
