"""Fire due micro-randomized decisions exactly once across processes, and write proximal outcomes.

Claimed like the scheduler's rows (bot/scheduling/runner.py): on PostgreSQL a batch of due pending
rows is selected `FOR UPDATE SKIP LOCKED` together with their patients (a patient busy in a
conversation is retried on the next tick); SQLite begins every transaction IMMEDIATE, one writer
at a time. The decision, the prompt's flow (its outbox rows) and the row's `decided` status
commit together, so a process killed mid-batch rolls back and another decides those rows once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions import Turn
from bot.scheduling.store import zone_of
from bot.study import availability, points
from bot.study.config import Study
from bot.study.policy import Policy, PolicyContext, draw, load_policy, probabilities, stream_seed
from flows import model as m
from storage import repo
from storage.models import Message, Patient, StudyDecision
from storage.statuses import DecisionStatus

if TYPE_CHECKING:
    from bot.pipeline import Pipeline

log = structlog.get_logger("tandem.study")
MAX_BATCHES_PER_TICK = 100


class StudyRunner:
    def __init__(self, pipeline: Pipeline, study: Study) -> None:
        self.pipeline = pipeline
        self.study = study
        self.db = pipeline.db
        self.hooks: dict[str, Policy] = {
            p.id: load_policy(p.policy) for p in study.decision_points if p.policy
        }

    async def tick(self) -> int:
        """Decide every due decision, then write closed outcome windows; returns rows decided."""
        await self.retime_moved()
        total = 0
        for _ in range(MAX_BATCHES_PER_TICK):
            handled = await self.run_batch()
            total += handled
            if handled < self.pipeline.settings.schedule_batch_size:
                break
        await self.outcomes()
        return total

    async def retime_moved(self, limit: int = 100) -> None:
        """Patients whose zone changed since their rows were planned (onboarding confirms it
        minutes after a first message) get their pending decisions re-timed, before any is due
        at the old zone's time. The patient's row lock (skipped when busy) keeps this apart from
        the claimers."""
        now = self.pipeline.clock.now()
        moved = (
            select(StudyDecision.patient_id)
            .join(Patient, Patient.id == StudyDecision.patient_id)
            .where(
                StudyDecision.status == DecisionStatus.PENDING,
                StudyDecision.study_id == self.study.id,
                StudyDecision.timezone != Patient.timezone,
            )
        )
        query = select(Patient).where(Patient.id.in_(moved)).limit(limit)
        if self.db.is_postgres:
            query = query.with_for_update(skip_locked=True)
        async with self.db.session() as session, session.begin():
            for patient in (await session.execute(query)).scalars():
                zone = zone_of(patient)  # an invalid stored zone counts as UTC
                if zone != patient.timezone:
                    continue
                await points.retime(session, self.study, patient.id, zone, now)

    async def run_batch(self) -> int:
        """Claim and decide up to a batch of due rows in one transaction; if one fails, the
        batch is redone with a savepoint per row and the failing row left for the next tick
        (past the grace window it is recorded as missed without a prompt)."""
        try:
            return await self._run_batch(isolated=False)
        except Exception:
            log.warning("study_batch_retried_per_row", exc_info=True)
            return await self._run_batch(isolated=True)

    async def _run_batch(self, *, isolated: bool) -> int:
        now = self.pipeline.clock.now()
        query = (
            select(StudyDecision, Patient)
            .join(Patient, Patient.id == StudyDecision.patient_id)
            .where(
                StudyDecision.status == DecisionStatus.PENDING,
                StudyDecision.study_id == self.study.id,
                StudyDecision.scheduled_utc <= now,
            )
            .order_by(StudyDecision.scheduled_utc, StudyDecision.id)
            .limit(self.pipeline.settings.schedule_batch_size)
        )
        if self.db.is_postgres:
            query = query.with_for_update(skip_locked=True)
        decided = 0
        hours = max(
            (p.availability.min_hours_since_prompt for p in self.study.decision_points), default=0
        )
        async with self.db.session() as session, session.begin():
            rows = [(row[0], row[1]) for row in (await session.execute(query)).all()]
            ids = list({patient.id for _, patient in rows})
            batch = await availability.Batch.load(session, ids, now, hours) if rows else None
            for decision, patient in rows:
                zone = zone_of(patient)
                if zone != decision.timezone:
                    await points.retime(session, self.study, patient.id, zone, now)
                if decision.scheduled_utc > now:
                    continue  # re-timed to later in the patient's new zone
                if not isolated:
                    await self.decide(session, decision, patient, now, batch)
                    decided += 1
                    continue
                try:
                    async with session.begin_nested():
                        await self.decide(session, decision, patient, now, batch)
                    decided += 1
                except Exception:  # one broken row must not stop the others
                    log.exception("study_decision_failed", decision=decision.id)
        if decided:
            self.pipeline.on_outbox()
        return len(rows)

    async def decide(
        self,
        session: AsyncSession,
        row: StudyDecision,
        patient: Patient,
        now: datetime,
        batch: availability.Batch | None,
    ) -> None:
        """Record availability, probabilities and the draw; run the drawn action's flow."""
        point = self.study.point(row.decision_point)
        assert batch is not None
        enrolment = batch.enrolments.get(patient.id)
        reasons = availability.reasons(point, row, patient, batch, now, self.pipeline.settings)
        row.status, row.decided_utc, row.updated_at = DecisionStatus.DECIDED, now, now
        row.decided_local = points.local_text(now, row.timezone)
        row.available, row.unavailable_reasons = not reasons, [r.value for r in reasons]
        if point.proximal_outcome is not None:
            row.proximal_due_at = now + timedelta(hours=point.proximal_outcome.hours)
        info = {"decision_id": row.id, "point": point.id, "index": row.decision_index}
        if reasons:
            await repo.log(
                session,
                now,
                "study_unavailable",
                patient.id,
                {**info, "reasons": row.unavailable_reasons},
            )
            return
        context = PolicyContext(
            study_id=self.study.id,
            decision_point=point.id,
            participant_id=row.participant_id,
            arm=enrolment.arm if enrolment else "",
            decision_index=row.decision_index,
            decided_utc=now,
            decided_local=row.decided_local,
            timezone=row.timezone,
            actions=tuple(a.id for a in point.actions),
            prior={a.id: float(a.probability or 0.0) for a in point.actions},
            history=await self._history(session, row),
        )
        table, version = probabilities(point, self.hooks.get(point.id), context)
        seed = stream_seed(
            self.study.randomization.seed,
            self.study.id,
            row.participant_id,
            point.id,
            row.decision_index,
        )
        action_id = draw(table, seed)
        row.probabilities, row.policy_version, row.seed = table, version, str(seed)
        row.action, row.probability = action_id, table[action_id]
        action = next(a for a in point.actions if a.id == action_id)
        await repo.log(session, now, "study_decided", patient.id, {**info, "action": action_id})
        if action.flow is None:
            return
        self.pipeline.library.get(action.flow)  # an unknown flow fails the batch, visibly
        identity = await repo.primary_identity(session, patient.id)
        turn = Turn(self.pipeline, session, patient, now, None, identity)
        await repo.log(session, now, "study_prompt_sent", patient.id, {**info, "flow": action.flow})
        await self.pipeline.advance(turn, m.Start(action.flow))
        batch.last_prompt[patient.id] = now  # a second point due now sees this prompt
        batch.busy.add(patient.id)

    async def _history(
        self, session: AsyncSession, row: StudyDecision
    ) -> tuple[tuple[str | None, float | None], ...]:
        rows = await session.execute(
            select(StudyDecision.action, StudyDecision.proximal_outcome)
            .where(
                StudyDecision.patient_id == row.patient_id,
                StudyDecision.decision_point == row.decision_point,
                StudyDecision.status == DecisionStatus.DECIDED,
                StudyDecision.decision_index < row.decision_index,
            )
            .order_by(StudyDecision.decision_index)
        )
        return tuple((action, outcome) for action, outcome in rows.all())

    async def outcomes(self) -> None:
        """`reply_within_hours`: 1.0 at the patient's first message inside the window (written
        on the next tick after it), 0.0 once the window closed without one. The values depend
        only on stored times, so two processes writing the same row write the same thing."""
        now = self.pipeline.clock.now()
        window = and_(
            Message.patient_id == StudyDecision.patient_id,
            Message.direction == "in",
            Message.created_at > StudyDecision.decided_utc,
            Message.created_at <= StudyDecision.proximal_due_at,
            Message.created_at <= now,
        )
        first_reply = (
            select(func.min(Message.created_at))
            .where(window)
            .correlate(StudyDecision)
            .scalar_subquery()
        )
        open_rows = and_(
            StudyDecision.study_id == self.study.id,
            StudyDecision.proximal_due_at.is_not(None),
            StudyDecision.proximal_outcome.is_(None),
        )
        async with self.db.session() as session, session.begin():
            await session.execute(
                update(StudyDecision)
                .where(open_rows, exists().where(window).correlate(StudyDecision))
                .values(proximal_outcome=1.0, proximal_outcome_at=first_reply, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            await session.execute(
                update(StudyDecision)
                .where(open_rows, StudyDecision.proximal_due_at <= now)
                .values(
                    proximal_outcome=0.0,
                    proximal_outcome_at=StudyDecision.proximal_due_at,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
