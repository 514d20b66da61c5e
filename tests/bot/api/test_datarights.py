"""Data rights on SQLite and PostgreSQL: an admin exports a patient's data and erases it (every
text column of every table is then searched for the planted markers: none left, while another
patient's are untouched), the CLI does the same, and retention blanks old bodies."""

from __future__ import annotations

import argparse
import io
from datetime import timedelta

from sqlalchemy import JSON, String, Text, cast, func, select
from sqlalchemy.types import String as StringType

from bot import datarights, patientcmd
from bot.clock import FakeClock
from bot.service import Tandem
from storage.models import (
    Base,
    CoachNote,
    Escalation,
    Event,
    Message,
    Patient,
    PatientFact,
    SafetyPlan,
)
from tests.bot.api.conftest import Staff, auth
from tests.bot.api.test_api import UNKNOWN, Client
from tests.helpers import say

MARK = "Qzxmarker"
OTHER = "Wvbother"


async def _plant(tandem: Tandem, address: str, mark: str, coach_id: str) -> str:
    receipt = await say(tandem, f"hello {mark}", address=address)
    await say(tandem, f"I want to kill myself {mark}", address=address)
    await tandem.dispatcher.drain()
    now = tandem.clock.now()
    async with tandem.db.session() as session, session.begin():
        patient = await session.get(Patient, receipt.patient_id)
        assert patient is not None
        patient.display_name, patient.consent_by = f"{mark} name", f"{mark} nurse"
        patient.consent_text = f"consent {mark}"
        session.add(CoachNote(patient_id=patient.id, coach_id=coach_id, body=mark, created_at=now))
        session.add(
            SafetyPlan(
                patient_id=patient.id, sections={"coping": [mark]}, created_at=now, updated_at=now
            )
        )
        session.add(PatientFact(patient_id=patient.id, name="worry", value=mark, updated_at=now))
        for esc in (await session.execute(select(Escalation))).scalars():
            if esc.patient_id == patient.id:
                esc.outcome = f"outcome {mark}"
        session.add(Event(at=now, kind="measure_scored", patient_id=patient.id,
                          data={"score": 14, "answer": mark}))  # fmt: skip
    return receipt.patient_id


async def _hits(tandem: Tandem, mark: str) -> list[str]:
    """Every table.column whose text (JSON as text) contains `mark`."""
    found = []
    async with tandem.db.session() as session:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, (String, Text, JSON, StringType)) or "JSON" in repr(
                    column.type
                ):
                    count = await session.scalar(
                        select(func.count())
                        .select_from(table)
                        .where(cast(column, Text).like(f"%{mark}%"))
                    )
                    if count:
                        found.append(f"{table.name}.{column.name}")
    return found


async def _admin_token(tandem: Tandem) -> str:
    from bot.coaching import accounts

    now = tandem.clock.now()
    async with tandem.db.session() as session, session.begin():
        admin = await accounts.create_coach(session, "ad@example.org", "Ad", "admin", now)
        return await accounts.issue_token(session, admin, now)


async def test_export_and_erase_through_the_api(
    client: Client, tandem: Tandem, staff: Staff
) -> None:
    alice = await _plant(tandem, "alice", MARK, staff.kim_id)
    await _plant(tandem, "bob", OTHER, staff.kim_id)
    assert len(await _hits(tandem, MARK)) >= 8
    admin = await _admin_token(tandem)
    url = f"/api/v1/patients/{alice}"
    assert (await client.get(url + "/export", headers=auth(staff.boss))).status == 403
    assert (await client.delete(url, headers=auth(staff.boss))).status == 403
    exported = await client.get(url + "/export", headers=auth(admin))
    assert exported.status == 200 and exported.headers["Cache-Control"] == "no-store"
    data = await exported.json()
    assert data["profile"]["display_name"] == f"{MARK} name"
    assert any(MARK in m["body"] for m in data["messages"])
    assert data["escalations"] and data["events"]

    assert (await client.delete(url, headers=auth(admin))).status == 204
    assert await _hits(tandem, MARK) == []
    assert len(await _hits(tandem, OTHER)) >= 8  # the other patient keeps everything
    assert (await client.get(url, headers=auth(admin))).status == 404
    assert (await client.get(url + "/export", headers=auth(admin))).status == 404
    assert (await client.delete(url, headers=auth(admin))).status == 404
    assert (await client.delete(f"/api/v1/patients/{UNKNOWN}", headers=auth(admin))).status == 404
    async with tandem.db.session() as session:
        kinds = list(
            (await session.execute(select(Event.kind).where(Event.patient_id == alice))).scalars()
        )
        scores = list(
            (
                await session.execute(
                    select(Event.data).where(
                        Event.patient_id == alice, Event.kind == "measure_scored"
                    )
                )
            ).scalars()
        )
    assert "patient_erased" in kinds and "patient_exported" in kinds
    assert scores == [{"score": 14}]  # de-identified measures stay for research
    # A new message from the same address is a new patient, not the erased one.
    receipt = await say(tandem, "hi again", address="alice")
    assert receipt.patient_id != alice


async def test_cli_export_and_erase(tandem: Tandem, staff: Staff) -> None:
    alice = await _plant(tandem, "alice", MARK, staff.kim_id)
    out = io.StringIO()
    args = argparse.Namespace(patient_command="export", patient_id=alice)
    assert await patientcmd.run(args, tandem.settings, out) == 0
    assert MARK in out.getvalue()
    refused = argparse.Namespace(patient_command="erase", patient_id=alice, yes=False)
    assert await patientcmd.run(refused, tandem.settings, io.StringIO()) == 2
    erase = argparse.Namespace(patient_command="erase", patient_id=alice, yes=True)
    assert await patientcmd.run(erase, tandem.settings, io.StringIO()) == 0
    assert await _hits(tandem, MARK) == []
    assert await patientcmd.run(args, tandem.settings, io.StringIO()) == 1


async def test_retention_blanks_old_bodies_only(tandem: Tandem, clock: FakeClock) -> None:
    await say(tandem, f"old {MARK}", address="alice")
    await tandem.dispatcher.drain()
    clock.advance(timedelta(days=31))
    await say(tandem, f"new {OTHER}", address="alice")
    purged = await datarights.purge_bodies(tandem.db, clock.now(), 30)
    assert purged >= 2
    async with tandem.db.session() as session:
        bodies = list((await session.execute(select(Message.body))).scalars())
    assert not any(MARK in b for b in bodies) and any(OTHER in b for b in bodies)
    assert "messages.body" not in await _hits(tandem, MARK)
