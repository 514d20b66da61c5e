"""The scheduler loop body: claim due schedule rows, fire them, re-arm them, in one transaction.

Every process runs `Scheduler.tick` from one short APScheduler interval job. On PostgreSQL a batch
is claimed with `SELECT ... FOR UPDATE SKIP LOCKED` over the schedule row and its patient, so two
processes never fire the same row and a patient busy in a conversation is simply retried on the
next tick (never waited for, so no lock-order deadlock with the inbound pipeline). The fire (its
outbox rows, events) and the next fire time commit together: a process killed mid-batch rolls
back and another process fires those rows once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import metrics
from bot.actions import Turn
from bot.scheduling import disengagement, measures
from bot.scheduling.store import allowed_at, next_daily, zone_of
from flows import model as m
from flows.texts import render
from storage import repo
from storage.db import plan_afresh
from storage.models import ChannelIdentity, FlowRun, Message, Patient, ScheduleItem
from storage.statuses import PatientStatus, RunStatus, ScheduleStatus

if TYPE_CHECKING:
    from bot.pipeline import Pipeline

log = structlog.get_logger("tandem.scheduler")

MAX_ATTEMPTS = 5
BUSY_DEFER = timedelta(minutes=10)  # a live conversation is not interrupted by a scheduled flow
MAX_BATCHES_PER_TICK = 1000
CLAIMERS = 4


def inactive_reason(patient: Patient, now: datetime) -> str | None:
    """Why nothing scheduled may reach this patient now (None: they may get messages)."""
    if (
        patient.status == PatientStatus.PAUSED
        and patient.paused_until
        and patient.paused_until <= now
    ):
        patient.status, patient.paused_until = PatientStatus.ACTIVE, None
    if patient.status != PatientStatus.ACTIVE:
        return patient.status
    if getattr(patient, "bot_paused", False):  # a coach holds the conversation
        return "bot_paused"
    return None


@dataclass
class Prefetched:
    """What firing a batch reads per patient, fetched with one query each for the whole batch
    instead of one per row."""

    waiting: dict[str, tuple[str, datetime]]  # latest waiting run: (flow id, updated at)
    identities: dict[str, ChannelIdentity]  # where replies go (the latest identity)
    replied: set[int]  # schedule rows whose patient wrote since the row's previous fire
    cadenced: set[str]  # patients who have a measure cadence row

    @classmethod
    async def load(
        cls, session: AsyncSession, rows: list[tuple[ScheduleItem, Patient]]
    ) -> Prefetched:
        ids = [patient.id for _, patient in rows]
        if not ids:
            return cls({}, {}, set(), set())
        waiting: dict[str, tuple[str, datetime]] = {}
        runs = await session.execute(
            select(FlowRun.patient_id, FlowRun.flow_id, FlowRun.updated_at)
            .where(FlowRun.patient_id.in_(ids), FlowRun.status == RunStatus.WAITING)
            .order_by(FlowRun.id)
        )
        for patient_id, flow_id, updated_at in runs:
            waiting[patient_id] = (flow_id, updated_at)  # the last one wins
        identities: dict[str, ChannelIdentity] = {}
        found = await session.execute(
            select(ChannelIdentity)
            .where(ChannelIdentity.patient_id.in_(ids))
            .order_by(ChannelIdentity.id)
        )
        for identity in found.scalars():
            identities[identity.patient_id] = identity
        fired = {item.id: item.last_fired_at for item, _ in rows if item.last_fired_at}
        replied: set[int] = set()
        if fired:
            inbound = await session.execute(
                select(ScheduleItem.id)
                .join(Message, Message.patient_id == ScheduleItem.patient_id)
                .where(
                    ScheduleItem.id.in_(list(fired)),
                    Message.direction == "in",
                    Message.created_at > ScheduleItem.last_fired_at,
                )
                .distinct()
            )
            replied = set(inbound.scalars())
        # A row never fired before counts as answered (there was nothing to answer).
        replied.update(item.id for item, _ in rows if item.last_fired_at is None)
        cadenced: set[str] = set()
        if any(item.kind == "checkin" for item, _ in rows):
            found_rows = await session.execute(
                select(ScheduleItem.patient_id).where(
                    ScheduleItem.patient_id.in_(ids), ScheduleItem.key == measures.KIND
                )
            )
            cadenced = set(found_rows.scalars())
        return cls(waiting, identities, replied, cadenced)


class Scheduler:
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.settings = pipeline.settings
        self.db = pipeline.db

    async def tick(self) -> int:
        """Fire everything due now: wait timeouts, then schedule rows. Returns rows handled."""
        # Overdue timeouts first: they belong to conversations started before today's fires.
        total = await self.fire_timeouts()
        # On PostgreSQL a few claimers overlap their database round trips; SKIP LOCKED keeps
        # them apart. SQLite has one writer at a time anyway.
        workers = CLAIMERS if self.db.is_postgres else 1
        counts = await asyncio.gather(*(self._drain() for _ in range(workers)))
        return total + sum(counts)

    async def _drain(self) -> int:
        total = 0
        for _ in range(MAX_BATCHES_PER_TICK):
            handled = await self.run_batch()
            total += handled
            if handled < self.settings.schedule_batch_size:
                break
        return total

    async def run_batch(self) -> int:
        """Claim up to a batch of due rows (one SKIP LOCKED select) and fire them in one
        transaction. Optimistic: the batch runs without a savepoint per row, and only if a row
        fails is it rolled back and redone with one savepoint per row, so one broken row never
        stops the others and a healthy batch saves two round trips a row."""
        try:
            return await self._run_batch(isolated=False)
        except Exception:
            log.warning("schedule_batch_retried_per_row", exc_info=True)
            return await self._run_batch(isolated=True)

    def claim_query(self, now: datetime) -> Select[ScheduleItem, Patient]:
        """The next batch of due rows, earliest first. ix_schedules_status_next_fire_at_id
        serves this order, so a claim reads its batch and stops even when thousands of rows
        share one instant (a zone's 09:00); tests/bot/scheduling/test_claim_plan.py."""
        query = (
            select(ScheduleItem, Patient)
            .join(Patient, Patient.id == ScheduleItem.patient_id)
            .where(ScheduleItem.status == ScheduleStatus.ACTIVE, ScheduleItem.next_fire_at <= now)
            .order_by(ScheduleItem.next_fire_at, ScheduleItem.id)
            .limit(self.settings.schedule_batch_size)
        )
        if self.db.is_postgres:
            query = query.with_for_update(skip_locked=True)
        return query

    async def _run_batch(self, *, isolated: bool) -> int:
        now = self.pipeline.clock.now()
        query = self.claim_query(now)
        async with self.db.session() as session, session.begin():
            # The batch's reads of flow_runs and messages, tables a burst grows fast.
            await plan_afresh(session)
            rows = [(row[0], row[1]) for row in (await session.execute(query)).all()]
            batch = await Prefetched.load(session, rows)
            if not isolated:
                # A row redone under its own savepoint may have changed facts it preloaded for a
                # later row of the same patient, so only the optimistic pass preloads.
                await repo.preload(session, list(dict.fromkeys(p.id for _, p in rows)))
            for item, patient in rows:
                if not isolated:
                    await self._fire(session, item, patient, now, batch)
                    continue
                try:
                    async with session.begin_nested():
                        await self._fire(session, item, patient, now, batch)
                except Exception as exc:  # one broken row must not stop the others
                    await self._failed(session, item, patient, now, exc)
        if rows:
            self.pipeline.on_outbox()
        return len(rows)

    async def _fire(
        self,
        session: AsyncSession,
        item: ScheduleItem,
        patient: Patient,
        now: datetime,
        batch: Prefetched,
    ) -> None:
        reason = inactive_reason(patient, now)
        if reason is None and item.payload.get("flow") and patient.consent_given is not True:
            reason = "no_consent"
        due = item.next_fire_at or now
        info: dict[str, Any] = {"schedule_id": item.id, "kind": item.kind, "due": due.isoformat()}
        if reason is not None:
            await repo.log(session, now, "schedule_skipped", patient.id, {**info, "reason": reason})
            self._rearm(item, patient, now, final=ScheduleStatus.SKIPPED)
            return
        grace = timedelta(hours=self.settings.schedule_grace_hours)
        if now - due > grace:
            late = int((now - due).total_seconds())
            await repo.log(session, now, "schedule_missed", patient.id, {**info, "late_s": late})
            log.warning("schedule_missed", patient=patient.id, kind=item.kind, late_s=late)
            self._rearm(item, patient, now, final=ScheduleStatus.SKIPPED)
            return
        allowed = allowed_at(now, zone_of(patient), self.settings)
        conflict = (
            self._conflict(item, batch.waiting.get(patient.id), now) if allowed == now else None
        )
        if conflict == "already_running":
            # The patient started this very flow themselves a moment ago: that was this fire.
            await repo.log(
                session, now, "schedule_skipped", patient.id, {**info, "reason": conflict}
            )
            item.last_fired_at = now
            self._rearm(item, patient, now, final=ScheduleStatus.SKIPPED)
            return
        busy = conflict == "busy"
        if allowed > now or busy:
            item.next_fire_at = allowed if allowed > now else now + BUSY_DEFER
            item.updated_at = now
            why = "quiet_hours" if allowed > now else "busy"
            await repo.log(
                session,
                now,
                "schedule_deferred",
                patient.id,
                {**info, "reason": why, "until": item.next_fire_at.isoformat()},
            )
            return
        turn = Turn(self.pipeline, session, patient, now, None, batch.identities.get(patient.id))
        await repo.log(session, now, "schedule_fired", patient.id, info)
        metrics.SCHEDULE_LAG.observe(max(0.0, (now - due).total_seconds()))
        replied = item.id in batch.replied
        if item.kind == "checkin" and patient.id not in batch.cadenced:
            # Patients onboarded before the measure cadence existed get it at their check-in.
            await measures.ensure(session, patient, now, self.settings, known_missing=True)
            batch.cadenced.add(patient.id)
        if item.kind == "checkin" and not await disengagement.before_checkin(turn, item, replied):
            pass  # a re-engagement message went out in place of this check-in
        elif item.kind == measures.KIND:
            await measures.fire(turn, item)
            batch.waiting[patient.id] = (str(item.payload.get("flow")), now)
        else:
            await self._deliver(turn, item)
            if flow := item.payload.get("flow"):  # a second row of this batch sees it running
                batch.waiting[patient.id] = (str(flow), now)
        item.last_fired_at = now
        self._rearm(item, patient, now, final=ScheduleStatus.DONE)

    def _conflict(
        self, item: ScheduleItem, waiting: tuple[str, datetime] | None, now: datetime
    ) -> str | None:
        """ "busy" when a live conversation in another flow would be cut off, "already_running"
        when the patient is in this very flow, started moments ago. `waiting`: the patient's
        latest waiting run (flow id, last update)."""
        flow = item.payload.get("flow")
        if not flow or waiting is None:
            return None
        flow_id, updated_at = waiting
        if updated_at <= now - BUSY_DEFER:
            return None
        return "already_running" if flow_id == flow else "busy"

    async def _deliver(self, turn: Turn, item: ScheduleItem) -> None:
        data = item.payload
        library = self.pipeline.library
        if flow := data.get("flow"):
            library.get(str(flow))  # an unknown flow fails the row, visibly
            variables = data.get("variables") or {}
            await self.pipeline.advance(turn, m.Start(str(flow), variables=dict(variables)))
        elif key := data.get("text_key"):
            flow_id, _, text_key = str(key).partition(".")
            source = library.get(flow_id).text(text_key, turn.patient.locale)
            ctx = self.pipeline.context(turn.patient, turn.now)
            body = render(source, {"patient": dict(ctx.patient), "site": dict(ctx.site)})
            await turn.send(body)
            await turn.log("message_queued", {"key": str(key), "urgent": False})
        else:
            raise ValueError(f"schedule {item.kind!r} has neither a flow nor a text_key")

    def _rearm(self, item: ScheduleItem, patient: Patient, now: datetime, *, final: str) -> None:
        item.updated_at, item.attempts, item.last_error = now, 0, None
        if item.kind == measures.KIND and item.recurrence == measures.RECURRENCE:
            measures.rearm(item, patient, now, self.settings)
        elif item.recurrence == "daily" and item.local_time:
            after = max(now, patient.paused_until or now)
            item.next_fire_at = next_daily(after, item.local_time, zone_of(patient), self.settings)
        else:
            item.status, item.next_fire_at = final, None

    async def _failed(
        self,
        session: AsyncSession,
        item: ScheduleItem,
        patient: Patient,
        now: datetime,
        exc: Exception,
    ) -> None:
        await session.refresh(item)
        await session.refresh(patient)
        item.attempts += 1
        item.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        item.updated_at = now
        if item.attempts >= MAX_ATTEMPTS:
            if item.kind == measures.KIND and item.recurrence == measures.RECURRENCE:
                measures.rearm(item, patient, now, self.settings)
            elif item.recurrence == "daily" and item.local_time:
                item.next_fire_at = next_daily(
                    now, item.local_time, zone_of(patient), self.settings
                )
            else:
                item.status, item.next_fire_at = ScheduleStatus.FAILED, None
        else:
            item.next_fire_at = now + timedelta(minutes=2**item.attempts)
        await repo.log(
            session,
            now,
            "schedule_failed",
            patient.id,
            {"schedule_id": item.id, "kind": item.kind, "attempts": item.attempts},
        )
        log.error("schedule_failed", patient=patient.id, kind=item.kind, error=type(exc).__name__)

    async def fire_timeouts(self, limit: int = 100) -> int:
        """Deliver due wait timeouts, respecting quiet hours, pauses and opt-outs.

        A timeout's nudge is scheduler-initiated, so in quiet hours it is deferred; for a paused,
        opted-out or discharged patient the wait closes quietly; while a coach holds the
        conversation it is put off by an hour.
        """
        now = self.pipeline.clock.now()
        async with self.db.session() as session:
            rows = await session.execute(
                select(FlowRun.patient_id)
                .where(FlowRun.status == RunStatus.WAITING, FlowRun.timeout_at <= now)
                .order_by(FlowRun.timeout_at)
                .limit(limit)
            )
            patients = list(dict.fromkeys(rows.scalars()))
        for patient_id in patients:
            async with self.db.session() as session, session.begin():
                patient = await repo.lock_patient(session, patient_id)
                run = await repo.active_run(session, patient_id)
                if patient is None or run is None or run.timeout_at is None or run.timeout_at > now:
                    continue  # answered, or handled by another process meanwhile
                reason = inactive_reason(patient, now)
                allowed = allowed_at(now, zone_of(patient), self.settings)
                if reason == "bot_paused" or (reason is None and allowed > now):
                    run.timeout_at = allowed if reason is None else now + timedelta(hours=1)
                    run.updated_at = now
                    data = {"flow": run.flow_id, "until": run.timeout_at.isoformat()}
                    await repo.log(session, now, "timeout_deferred", patient.id, data)
                elif reason is not None:
                    run.status, run.outcome, run.timeout_at = (
                        RunStatus.ENDED,
                        f"closed_{reason}"[:32],
                        None,
                    )
                    run.ended_at = run.updated_at = now
                    await repo.log(
                        session,
                        now,
                        "wait_closed",
                        patient.id,
                        {"flow": run.flow_id, "reason": reason},
                    )
                else:
                    await self.pipeline.advance(
                        Turn(self.pipeline, session, patient, now, None), m.Timeout()
                    )
        if patients:
            self.pipeline.on_outbox()
        return len(patients)
