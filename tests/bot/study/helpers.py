"""Enrolling a patient at first contact and reading their decisions, for the study tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from bot.service import Tandem
from storage.models import Patient, StudyDecision
from tests.helpers import say


async def enrolled(tandem: Tandem, address: str, **columns: Any) -> str:
    """A patient enrolled by their first message, consented (onboarding is not under test)."""
    receipt = await say(tandem, "hi", address=address)
    values = {"consent_given": True, "timezone_confirmed": True, **columns}
    async with tandem.db.session() as session, session.begin():
        await session.execute(
            update(Patient).where(Patient.id == receipt.patient_id).values(**values)
        )
    return receipt.patient_id


async def decisions(tandem: Tandem, patient_id: str) -> list[StudyDecision]:
    async with tandem.db.session() as session:
        rows = await session.execute(
            select(StudyDecision)
            .where(StudyDecision.patient_id == patient_id)
            .order_by(StudyDecision.decision_point, StudyDecision.decision_index)
        )
        return list(rows.scalars())


async def tick(tandem: Tandem) -> int:
    assert tandem.study_runner is not None
    return await tandem.study_runner.tick()
