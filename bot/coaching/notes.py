"""Coaches' notes on a patient: never sent to the patient, written to the event log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.models import Coach, CoachNote

MAX_NOTE = 4000


async def add(
    session: AsyncSession, patient_id: str, coach: Coach, body: str, now: datetime
) -> CoachNote:
    """Add a note in the caller's transaction (the console and the API check access first)."""
    note = CoachNote(patient_id=patient_id, coach_id=coach.id, body=body[:MAX_NOTE], created_at=now)
    session.add(note)
    await session.flush()
    await repo.log(
        session, now, "coach_note_added", patient_id, {"coach_id": coach.id, "id": note.id}
    )
    return note


async def latest(session: AsyncSession, patient_id: str, limit: int = 50) -> list[CoachNote]:
    rows = await session.execute(
        select(CoachNote)
        .where(CoachNote.patient_id == patient_id)
        .order_by(CoachNote.id.desc())
        .limit(limit)
    )
    return list(rows.scalars())
