"""Wires a study into a Tandem process: allocation when a patient is created, the arm's coaching
setting, and the decision runner the background sweep ticks.

`coaching: false` withholds only routine coach contact: the non-urgent `disengaged` escalation
(missed check-ins). Risk responses, crisis resources, human requests, worsening scores and
undeliverable alerts go through unchanged in every arm.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions import Handler, Turn
from bot.study import allocation, points
from bot.study.config import Study
from bot.study.runner import StudyRunner
from flows import model as m
from storage.models import Patient

if TYPE_CHECKING:
    from bot.pipeline import Pipeline

ROUTINE_REASONS = frozenset({"disengaged"})


async def enrol(session: AsyncSession, study: Study, patient: Patient, now: datetime) -> str:
    """Allocate a patient created now and plan their decisions; returns the arm."""
    enrolment = await allocation.enrol(session, study, patient, now)
    await points.plan(session, study, enrolment, patient)
    return enrolment.arm


def install(pipeline: Pipeline, study: Study) -> StudyRunner:
    """Register the enrolment hook and the arm-aware Escalate handler; the runner to tick."""

    async def on_enrolment(session: AsyncSession, patient: Patient, now: datetime) -> None:
        await enrol(session, study, patient, now)

    pipeline.enrolment_hooks.append(on_enrolment)

    async def arm_escalate(turn: Turn, action: m.Escalate, escalate: Handler) -> None:
        if action.reason in ROUTINE_REASONS:
            arm = study.arm(await allocation.arm_of(turn.session, study, turn.patient.id))
            if arm is not None and not arm.coaching:
                data = {"reason": action.reason, "arm": arm.id}
                await turn.log("routine_coach_contact_withheld", data)
                return
        await escalate(turn, action)

    pipeline.handlers.wrap(m.Escalate, arm_escalate)
    return StudyRunner(pipeline, study)
