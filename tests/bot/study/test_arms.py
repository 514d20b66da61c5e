"""Arm settings: `coaching: false` withholds only routine coach contact; the crisis response and
risk escalations are identical in every arm."""

from __future__ import annotations

from sqlalchemy import select

from bot.actions import Turn
from bot.service import Tandem
from flows import model as m
from storage import repo
from storage.models import Escalation, Event, StudyEnrolment
from tests.bot.study.helpers import enrolled
from tests.helpers import last_id, outbound, say


async def _by_arm(tandem: Tandem) -> dict[str, tuple[str, str]]:
    """One (patient id, address) per arm, from one complete block."""
    addresses = {await enrolled(tandem, f"a{i}"): f"a{i}" for i in range(4)}
    async with tandem.db.session() as session:
        rows = (await session.execute(select(StudyEnrolment))).scalars().all()
    return {row.arm: (row.patient_id, addresses[row.patient_id]) for row in rows}


async def _escalate(tandem: Tandem, patient_id: str, reason: str, priority: str) -> None:
    async with tandem.db.session() as session, session.begin():
        patient = await repo.lock_patient(session, patient_id)
        assert patient is not None
        turn = Turn(tandem.pipeline, session, patient, tandem.clock.now(), None)
        await tandem.pipeline.handlers.handle(turn, m.Escalate(reason, priority, "detail"))


async def _escalations(tandem: Tandem, patient_id: str) -> list[tuple[str, str]]:
    async with tandem.db.session() as session:
        rows = await session.execute(
            select(Escalation.reason, Escalation.priority).where(
                Escalation.patient_id == patient_id
            )
        )
        return [(reason, priority) for reason, priority in rows.all()]


async def test_control_arm_gets_no_routine_coach_contact(standem: Tandem) -> None:
    arms = await _by_arm(standem)
    control, coached = arms["control"][0], arms["coached"][0]
    for patient_id in (control, coached):
        await _escalate(standem, patient_id, "disengaged", "normal")
        await _escalate(standem, patient_id, "worsening", "high")
    assert await _escalations(standem, control) == [("worsening", "high")]
    assert sorted(await _escalations(standem, coached)) == [
        ("disengaged", "normal"),
        ("worsening", "high"),
    ]
    async with standem.db.session() as session:
        withheld = await session.execute(
            select(Event.patient_id).where(Event.kind == "routine_coach_contact_withheld")
        )
        assert list(withheld.scalars()) == [control]


async def test_crisis_response_is_identical_in_every_arm(standem: Tandem) -> None:
    arms = await _by_arm(standem)
    seen = []
    for patient_id, address in arms.values():
        before = await last_id(standem)
        await say(standem, "i want to kill myself", address=address)
        sent = await outbound(standem, patient_id, after=before)
        assert sent and "988" in sent[0]  # the US crisis line, first
        assert await _escalations(standem, patient_id) == [("risk", "urgent")]
        seen.append(sent)
    assert seen[0] == seen[1]
