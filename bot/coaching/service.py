"""Wires coaching into a Tandem process and offers its units of work (one transaction each, under
the patient's lock) to the REST API and the console."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import select

from bot.actions import Handler, Turn
from bot.channels.base import OutboundMessage, SendError
from bot.clock import Clock
from bot.coaching import crisis, escalations, notify, safetycheck, staffing, takeover
from bot.coaching.crisis import PLAN_SECTIONS
from bot.coaching.safety import SafetyLayer
from bot.outbox import Dispatcher
from bot.pipeline import Pipeline
from bot.settings import Settings
from flows import model as m
from storage import repo
from storage.db import Database
from storage.models import Coach, Escalation, Message, Patient, Takeover

log = structlog.get_logger("tandem.coaching")


class NotFound(Exception):
    """No such patient or escalation (HTTP 404)."""


class Coaching:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        clock: Clock,
        pipeline: Pipeline,
        dispatcher: Dispatcher,
    ) -> None:
        self.settings, self.db, self.clock = settings, db, clock
        self.pipeline, self.dispatcher = pipeline, dispatcher
        self.safety = SafetyLayer()
        # Staff alerts queue in the outbox; the dispatcher's channels say what can be sent.
        self.alerts = notify.Alerts(
            channels=dispatcher.channels,
            oncall_phone=settings.oncall_phone,
            public_url=settings.public_url,
            wake=dispatcher.wake,
        )
        self.policy = escalations.Policy(settings.sla_minutes, settings.program_name)
        self.policy.locale = settings.default_locale

    def install(self) -> None:
        """Register the Escalate handler and the undeliverable hook; every session of this
        database carries the escalation policy and where alerts go. Its links (`safety.intercept`,
        `safety.hold`) are registered with the others in bot/service.py."""
        escalations.configure(self.db, self.policy)
        notify.configure(self.db, self.alerts)
        self.pipeline.handlers.register(m.Escalate, self.on_escalate)
        self.pipeline.handlers.wrap(m.RecordAnswer, self.on_answer)
        self.dispatcher.failure_hooks.append(self.on_undeliverable)

    async def on_escalate(self, turn: Turn, action: m.Escalate) -> None:
        """A flow asked for a coach; risk (PHQ-9 item 9) gets the full crisis response at once."""
        await turn.log(
            "escalation_requested", {"reason": action.reason, "priority": action.priority}
        )
        if action.reason == "risk":
            # PHQ-9 item 9: a positive answer is risk; one left unanswered (priority "high")
            # gets the gentler check, never silence.
            level = "concern" if action.priority in ("high", "normal") else "risk"
            await safetycheck.respond(turn, level, "flow", action.detail)
            return
        priority = action.priority if action.priority in escalations.PRIORITIES else "normal"
        await escalations.open_escalation(
            turn.session, turn.patient.id, action.reason, priority, action.detail, turn.now
        )

    async def on_answer(self, turn: Turn, action: m.RecordAnswer, record: Handler) -> None:
        """Answers to the safety plan flow (variables `sp_<section>`) become the stored plan."""
        await record(turn, action)
        section = (action.variable or "").removeprefix("sp_")
        if action.variable and action.variable.startswith("sp_") and section in PLAN_SECTIONS:
            await crisis.save_plan_section(turn, section, str(action.value))

    async def on_undeliverable(self, item: OutboundMessage, error: SendError) -> None:
        if item.staff or (error.opted_out and not item.urgent):
            return  # staff alerts never come here; opt-outs the channel layer already records
        now = self.clock.now()
        detail = f"outbox {item.outbox_id}: {error.code or ''} {error.reason}".strip()
        async with self.db.session() as session, session.begin():
            await escalations.open_escalation(
                session,
                item.patient_id,
                "undeliverable",
                "high" if item.urgent else "normal",
                detail[:500],
                now,
            )

    async def tick(self) -> None:
        """SLA check (backup told about open escalations past due) and takeover reminders."""
        now = self.clock.now()
        try:
            async with self.db.session() as session, session.begin():
                for esc in await escalations.overdue(session, now):
                    await escalations.notify_backups(session, esc, now)
                await takeover.remind_overdue(
                    session,
                    now,
                    timedelta(minutes=self.settings.takeover_remind_minutes),
                    self.policy.locale,
                    self.policy.program,
                )
        except Exception:
            log.exception("coaching_tick_failed")
        await self._expire_checks(now)

    async def _expire_checks(self, now: datetime) -> None:
        """Safety checks left unanswered: one patient per transaction, under their lock."""
        async with self.db.session() as session:
            due = list(
                (
                    await session.execute(
                        select(Patient.id)
                        .where(Patient.safety_check_due <= now)
                        .order_by(Patient.safety_check_due)
                        .limit(100)
                    )
                ).scalars()
            )
        for patient_id in due:
            try:
                async with self.db.session() as session, session.begin():
                    patient = await repo.lock_patient(session, patient_id)
                    if patient is None or patient.safety_check_due is None:
                        continue
                    if patient.safety_check_due > now:
                        continue  # answered meanwhile, in another process
                    turn = Turn(self.pipeline, session, patient, now, None)
                    await safetycheck.expire(turn)
            except Exception:
                log.exception("safety_check_expiry_failed", patient=patient_id)
        if due:
            self.dispatcher.wake()

    async def staffing(self) -> staffing.Staffing:
        """Coach accounts and the on-call phone (GET /readyz, start-up)."""
        async with self.db.session() as session:
            return await staffing.staffing(session, self.alerts)

    async def startup_check(self) -> None:
        """Warn once at start-up when escalations would reach nobody."""
        try:
            staffing.log_startup(await self.staffing())
        except Exception:
            log.exception("startup_check_failed")

    # --- units of work for the API and the console --------------------------------------------

    async def take_over(self, patient_id: str, coach: Coach) -> Takeover:
        async with self.db.session() as session, session.begin():
            patient = await repo.lock_patient(session, patient_id)
            if patient is None:
                raise NotFound("patient")
            return await takeover.start(session, patient, coach, self.clock.now())

    async def coach_message(self, patient_id: str, coach: Coach, body: str) -> Message:
        async with self.db.session() as session, session.begin():
            patient = await repo.lock_patient(session, patient_id)
            if patient is None:
                raise NotFound("patient")
            message = await takeover.send(session, patient, coach, body, self.clock.now())
        self.dispatcher.wake()
        return message

    async def release(
        self, patient_id: str, coach: Coach, *, resume: str = "flow", outcome: str = ""
    ) -> Takeover | None:
        async with self.db.session() as session, session.begin():
            patient = await repo.lock_patient(session, patient_id)
            if patient is None:
                raise NotFound("patient")
            turn = Turn(self.pipeline, session, patient, self.clock.now(), None)
            result = await takeover.release(turn, coach, resume=resume, outcome=outcome)
        self.dispatcher.wake()
        return result

    async def acknowledge(self, escalation_id: int, coach: Coach) -> Escalation:
        async with self.db.session() as session, session.begin():
            esc = await session.get(Escalation, escalation_id)
            if esc is None:
                raise NotFound("escalation")
            return await escalations.acknowledge(session, esc, coach, self.clock.now())
