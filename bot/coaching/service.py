"""Wires coaching into a Tandem process and offers its units of work (one transaction each, under
the patient's lock) to the REST API and the console."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import select

from bot.actions import Turn
from bot.channels.base import OutboundMessage, SendError
from bot.coaching import crisis, escalations, notify, safetycheck, staffing, takeover
from bot.coaching.crisis import PLAN_SECTIONS
from bot.coaching.safety import SafetyLayer
from bot.pipeline import ORDER_SAFETY, ORDER_TAKEOVER
from flows import model as m
from storage import repo
from storage.models import Coach, Escalation, Message, Patient, Takeover

if TYPE_CHECKING:
    from bot.service import Tandem

log = structlog.get_logger("tandem.coaching")


class NotFound(Exception):
    """No such patient or escalation (HTTP 404)."""


class Coaching:
    def __init__(self, tandem: Tandem) -> None:
        self.tandem = tandem
        settings = tandem.settings
        self.safety = SafetyLayer()
        # Staff alerts queue in the outbox; the dispatcher's channels say what can be sent.
        self.alerts = notify.Alerts(
            channels=tandem.dispatcher.channels,
            oncall_phone=settings.oncall_phone,
            public_url=settings.public_url,
            wake=tandem.dispatcher.wake,
        )
        self.policy = escalations.Policy(settings.sla_minutes, settings.program_name)
        self.policy.locale = settings.default_locale

    def install(self) -> None:
        """Register the interceptors, the Escalate handler and the undeliverable hook."""
        tandem = self.tandem
        notify.configure(self.alerts)
        escalations.configure(self.policy)
        tandem.pipeline.add_interceptor(self.safety.intercept, ORDER_SAFETY)
        tandem.pipeline.add_interceptor(self.safety.hold, ORDER_TAKEOVER)
        tandem.pipeline.handlers.register(m.Escalate, self.on_escalate)
        self._record_answer = tandem.pipeline.handlers._handlers[m.RecordAnswer]
        tandem.pipeline.handlers.register(m.RecordAnswer, self.on_answer)
        tandem.dispatcher.failure_hooks.append(self.on_undeliverable)

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

    async def on_answer(self, turn: Turn, action: m.RecordAnswer) -> None:
        """Answers to the safety plan flow (variables `sp_<section>`) become the stored plan."""
        await self._record_answer(turn, action)
        section = (action.variable or "").removeprefix("sp_")
        if action.variable and action.variable.startswith("sp_") and section in PLAN_SECTIONS:
            await crisis.save_plan_section(turn, section, str(action.value))

    async def on_undeliverable(self, item: OutboundMessage, error: SendError) -> None:
        if item.staff or (error.opted_out and not item.urgent):
            return  # staff alerts never come here; opt-outs the channel layer already records
        now = self.tandem.clock.now()
        detail = f"outbox {item.outbox_id}: {error.code or ''} {error.reason}".strip()
        async with self.tandem.db.session() as session, session.begin():
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
        now = self.tandem.clock.now()
        try:
            async with self.tandem.db.session() as session, session.begin():
                for esc in await escalations.overdue(session, now):
                    await escalations.notify_backups(session, esc, now)
                await takeover.remind_overdue(
                    session,
                    now,
                    timedelta(minutes=self.tandem.settings.takeover_remind_minutes),
                    self.policy.locale,
                    self.policy.program,
                )
        except Exception:
            log.exception("coaching_tick_failed")
        await self._expire_checks(now)

    async def _expire_checks(self, now: datetime) -> None:
        """Safety checks left unanswered: one patient per transaction, under their lock."""
        async with self.tandem.db.session() as session:
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
                async with self.tandem.db.session() as session, session.begin():
                    patient = await repo.lock_patient(session, patient_id)
                    if patient is None or patient.safety_check_due is None:
                        continue
                    if patient.safety_check_due > now:
                        continue  # answered meanwhile, in another process
                    turn = Turn(self.tandem.pipeline, session, patient, now, None)
                    await safetycheck.expire(turn)
            except Exception:
                log.exception("safety_check_expiry_failed", patient=patient_id)
        if due:
            self.tandem.dispatcher.wake()

    async def staffing(self) -> staffing.Staffing:
        """Coach accounts and the on-call phone (GET /readyz, start-up)."""
        async with self.tandem.db.session() as session:
            return await staffing.staffing(session, self.alerts)

    async def startup_check(self) -> None:
        """Warn once at start-up when escalations would reach nobody."""
        try:
            staffing.log_startup(await self.staffing())
        except Exception:
            log.exception("startup_check_failed")

    # --- units of work for the API and the console --------------------------------------------

    async def take_over(self, patient_id: str, coach: Coach) -> Takeover:
        async with self.tandem.db.session() as session, session.begin():
            patient = await repo.lock_patient(session, patient_id)
            if patient is None:
                raise NotFound("patient")
            return await takeover.start(session, patient, coach, self.tandem.clock.now())

    async def coach_message(self, patient_id: str, coach: Coach, body: str) -> Message:
        async with self.tandem.db.session() as session, session.begin():
            patient = await repo.lock_patient(session, patient_id)
            if patient is None:
                raise NotFound("patient")
            message = await takeover.send(session, patient, coach, body, self.tandem.clock.now())
        self.tandem.dispatcher.wake()
        return message

    async def release(
        self, patient_id: str, coach: Coach, *, resume: str = "flow", outcome: str = ""
    ) -> Takeover | None:
        async with self.tandem.db.session() as session, session.begin():
            patient = await repo.lock_patient(session, patient_id)
            if patient is None:
                raise NotFound("patient")
            turn = Turn(self.tandem.pipeline, session, patient, self.tandem.clock.now(), None)
            result = await takeover.release(turn, coach, resume=resume, outcome=outcome)
        self.tandem.dispatcher.wake()
        return result

    async def acknowledge(self, escalation_id: int, coach: Coach) -> Escalation:
        async with self.tandem.db.session() as session, session.begin():
            esc = await session.get(Escalation, escalation_id)
            if esc is None:
                raise NotFound("escalation")
            return await escalations.acknowledge(session, esc, coach, self.tandem.clock.now())
