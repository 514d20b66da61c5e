"""The inbound pipeline: store -> lock the patient -> engine step -> persist -> wake the dispatcher.

A message acknowledged to a channel is committed first (`store`); processing happens in a second
transaction under the patient's conversation lock, and takes every stored-but-unprocessed message
of that patient in arrival order, so concurrent requests never reorder a conversation and a crash
between the two leaves the message for the sweeper, not lost.
"""

from __future__ import annotations

import random
import traceback
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

import structlog
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from bot.actions import ActionHandlers, Turn
from bot.chain import Chain, Link, Result
from bot.channels.base import InboundMessage
from bot.clock import Clock
from bot.combine import combine
from bot.facts import load_facts
from bot.runs import to_state, write_state
from bot.settings import Settings
from flows import model as m
from flows.engine import EngineError, step
from flows.library import FlowLibrary
from storage import repo, writes
from storage.db import Database
from storage.models import ChannelIdentity, FlowRun, Message, Patient
from storage.statuses import InboundStatus, RunStatus

log = structlog.get_logger("tandem.pipeline")

# Extra read-only patient facts for flows (`patient.<name>`), computed before each engine step.
FactProvider = Callable[[Turn], Awaitable[dict[str, Any]]]
EnrolmentHook = Callable[[AsyncSession, Patient, datetime], Awaitable[None]]


def _attach(session: AsyncSession, message: Message) -> None:
    """Make a message read by the lean path an ORM row of `session` (no query)."""
    make_transient_to_detached(message)
    session.add(message)


@dataclass(frozen=True)
class Receipt:
    message_id: int | None
    patient_id: str
    duplicate: bool
    new_patient: bool


class Pipeline:
    def __init__(
        self,
        db: Database,
        library: FlowLibrary,
        settings: Settings,
        clock: Clock,
        *,
        on_outbox: Callable[[], None] = lambda: None,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.library = library
        self.settings = settings
        self.clock = clock
        self.on_outbox = on_outbox
        self.rng = rng or random.Random()
        # The links every inbound message passes before the flow (bot/chain.py).
        self.chain = Chain()
        self.handlers = ActionHandlers()
        self._saved_versions: set[tuple[str, str]] = set()
        # Areas that keep their own tables (worry log, exposure ladder) add patient facts here.
        self.fact_providers: list[FactProvider] = [_program_facts]
        # Called in the creating transaction when a patient is enrolled (first contact or API):
        # the study allocates an arm there (bot/study).
        self.enrolment_hooks: list[EnrolmentHook] = []

    async def enrolled(self, session: AsyncSession, patient: Patient, now: datetime) -> None:
        """Run the enrolment hooks for a patient created in this transaction."""
        for hook in self.enrolment_hooks:
            await hook(session, patient, now)

    async def receive(self, msg: InboundMessage) -> Receipt:
        """Store the message and process the patient's pending messages, in one transaction.

        Nothing is acknowledged before the commit. The lean path (no savepoints, batched
        writes) runs first; a message the safety layer acts on continues the careful way. If
        the lean transaction fails, it is rolled back whole and the careful path redoes it,
        where a failing step only rolls back its own savepoint (the message stays, marked
        failed). If that fails too, nothing was acknowledged and the provider retries.
        """
        try:
            receipt = await self._receive(msg, lean=True)
        except Exception as exc:
            log.warning("lean_turn_redone", channel=msg.channel, error=type(exc).__name__)
            receipt = await self._receive(msg, lean=False)
        if not receipt.duplicate:
            self.on_outbox()
        return receipt

    async def _receive(self, msg: InboundMessage, *, lean: bool) -> Receipt:
        async with self.db.session() as session, session.begin():
            if lean:
                writes.attach(session)
            receipt, patient, rows = await self._store(session, msg, lean=lean)
            if patient is not None:
                # Replies go back on the channel and address this message came from.
                reply_to = ChannelIdentity(
                    patient_id=patient.id, channel=msg.channel, address=msg.address
                )
                await self._process_pending(session, patient, reply_to, lean=lean, rows=rows)
            await writes.write(session)
        return receipt

    async def store(self, msg: InboundMessage) -> Receipt:
        """Store only (committed); for channels that must acknowledge before processing."""
        async with self.db.session() as session, session.begin():
            receipt, _, _ = await self._store(session, msg, lean=False)
        return receipt

    async def _store(
        self, session: AsyncSession, msg: InboundMessage, *, lean: bool
    ) -> tuple[Receipt, Patient | None, list[Row[Any]] | None]:
        """Store under the patient's lock; the lean path also gets the pending messages."""
        patient, created = await repo.get_or_create_patient(
            session,
            msg.channel,
            msg.address,
            self.clock.now(),
            locale=self.settings.default_locale,
            timezone=self.settings.default_timezone,
            # Ids are handed out under the patient's lock, so id order is commit order and the
            # processor never skips a message that is still being stored.
            lock=True,
        )
        if created:
            await self.enrolled(session, patient, self.clock.now())
        args = (msg.channel, msg.provider_message_id, msg.text, msg.payload, self.clock.now())
        rows = None
        if lean:
            message_id, rows = await repo.store_inbound_pending(session, patient.id, *args)
        else:
            message_id = await repo.insert_inbound(session, patient.id, *args)
        if message_id is None:
            log.info("inbound_duplicate", channel=msg.channel, patient=patient.id)
            return Receipt(None, patient.id, True, created), None, None
        return Receipt(message_id, patient.id, False, created), patient, rows

    async def process_patient(self, patient_id: str) -> int:
        """Process every stored, unprocessed message of one patient, in order."""
        try:
            done = await self._process_patient(patient_id, lean=True)
        except Exception as exc:
            log.warning("lean_turn_redone", patient=patient_id, error=type(exc).__name__)
            done = await self._process_patient(patient_id, lean=False)
        if done:
            self.on_outbox()
        return done

    async def _process_patient(self, patient_id: str, *, lean: bool) -> int:
        async with self.db.session() as session, session.begin():
            if lean:
                writes.attach(session)
            patient = await repo.lock_patient(session, patient_id)
            if patient is None:
                return 0
            done = await self._process_pending(session, patient, None, lean=lean)
            await writes.write(session)
        return done

    async def _process_pending(
        self,
        session: AsyncSession,
        patient: Patient,
        reply_to: ChannelIdentity | None,
        *,
        lean: bool,
        rows: list[Row[Any]] | None = None,
    ) -> int:
        if not lean:
            pending = await repo.pending_inbound(session, patient.id)
            for message in pending:
                await self._process_one(session, patient, message, reply_to)
            return len(pending)
        if rows is None:
            rows = await repo.pending_rows(session, patient.id)
        for row in rows:
            careful = writes.buffer_of(session) is None  # an earlier message went careful
            # Not added to the session: its status is written by the turn's batch.
            message = Message(
                id=row.id,
                patient_id=patient.id,
                direction="in",
                channel=row.channel,
                provider_message_id=row.provider_message_id,
                body=row.body,
                payload=row.payload,
                status=InboundStatus.RECEIVED,
                error=row.error,
                created_at=row.created_at,
                updated_at=row.updated_at,
            )
            if careful:
                _attach(session, message)
                await self._process_one(session, patient, message, reply_to)
            else:
                await self._process_lean(session, patient, message, reply_to)
        return len(rows)

    async def _process_lean(
        self,
        session: AsyncSession,
        patient: Patient,
        message: Message,
        reply_to: ChannelIdentity | None,
    ) -> None:
        """The common message, without savepoints: any exception rolls the whole transaction
        back and `receive` redoes it on the careful path (`_process_one`)."""
        now = self.clock.now()
        turn = Turn(self, session, patient, now, message.channel, reply_to)
        buffer = writes.buffer_of(session)
        assert buffer is not None
        before = buffer.appended
        handled = False
        for link in self.chain.safety():
            handled = await _run(link, turn, message)
            if handled:
                break
        if handled or turn.held or buffer.appended != before or session.new or session.dirty:
            # Safety acted (a crisis reply, a safety check, a held acknowledgement): what it
            # wrote must survive whatever follows, so the rest of this transaction goes the
            # careful way (ORM, savepoints) from here; nothing safety did is redone.
            await writes.write(session)
            writes.detach(session)
            _attach(session, message)
            await self._after_safety(turn, message, handled)
            return
        for link in self.chain.rest():
            handled = await _run(link, turn, message)
            if handled:
                break
        if not handled and not turn.held:
            await self.advance(turn, m.Text(message.body, message.payload))
        buffer.status(message.id, InboundStatus.PROCESSED, None, now)

    async def _process_one(
        self,
        session: AsyncSession,
        patient: Patient,
        message: Message,
        reply_to: ChannelIdentity | None = None,
    ) -> None:
        now = self.clock.now()
        turn = Turn(self, session, patient, now, message.channel, reply_to)
        handled = False
        for link in self.chain.safety():
            # Safety gets a savepoint of its own: its crisis reply and escalation are kept even
            # when a later link or the flow step fails and rolls its own work back.
            try:
                async with session.begin_nested():
                    handled = await _run(link, turn, message)
            except Exception as exc:
                await repo.log(
                    session, now, "safety_failed", patient.id, {"message_id": message.id}
                )
                log.error("safety_failed", patient=patient.id, error=type(exc).__name__)
            if handled:
                break
        await self._after_safety(turn, message, handled)

    async def _after_safety(self, turn: Turn, message: Message, handled: bool) -> None:
        """The rest of the careful path: a savepoint, so a failure keeps what safety did."""
        session, patient, now = turn.session, turn.patient, turn.now
        try:
            async with session.begin_nested():
                for link in self.chain.rest():
                    if handled:
                        break
                    handled = await _run(link, turn, message)
                if not handled and not turn.held:
                    await self.advance(turn, m.Text(message.body, message.payload))
            message.status = InboundStatus.PROCESSED
        except Exception as exc:  # a failing step must never lose the message
            message.status = InboundStatus.FAILED
            message.error = "".join(traceback.format_exception_only(exc)).strip()[:2000]
            await repo.log(session, now, "step_failed", patient.id, {"message_id": message.id})
            log.error(
                "step_failed", patient=patient.id, message_id=message.id, error=type(exc).__name__
            )
            await self._reapply_risk(turn)
        message.updated_at = now

    async def _reapply_risk(self, turn: Turn) -> None:
        """A step that raised risk (PHQ-9 item 9) and then failed still gets its crisis response."""
        pending, turn.risk_actions = turn.risk_actions, []
        for action in pending:
            try:
                async with turn.session.begin_nested():
                    await self.handlers.handle(turn, action)
            except Exception as exc:
                log.error("risk_reapply_failed", patient=turn.patient.id, error=type(exc).__name__)

    def context(
        self, patient: Patient, now: Any, facts: Mapping[str, Any] | None = None
    ) -> m.Context:
        return m.Context(
            now=now,
            locale=patient.locale,
            timezone=patient.timezone,
            new_id=lambda: str(uuid4()),
            rng=self.rng,
            patient={
                "name": patient.display_name,
                "checkin_time": patient.checkin_time,
                "locale": patient.locale,
                "timezone": patient.timezone,
                "consent_given": patient.consent_given,
                **(facts or {}),
            },
            site={
                "program": self.settings.program_name,
                "support": self.settings.support_contact,
            },
        )

    async def advance(self, turn: Turn, event: m.Event) -> m.StepResult:
        """Run one engine step for the patient of `turn` and persist everything it produced."""
        session, patient = turn.session, turn.patient
        if patient.bot_paused and not turn.crisis_safe:
            # A coach has the conversation (or a risk response is open): no automated content.
            await turn.log("paused_skip", {"event": type(event).__name__})
            return m.StepResult(None, ())
        row = await repo.active_run(session, patient.id)
        run = to_state(row)
        if isinstance(event, m.Text) and (run is None or run.status == RunStatus.ENDED):
            event = m.Start("onboarding" if patient.consent_given is not True else "checkin")
        if run is not None and not self.library.has_version(run.flow_id, run.flow_version):
            await self._load_versions(session, run)
        facts = await self._facts(turn)
        result = step(self.library, run, event, self.context(patient, turn.now, facts))
        turn.risk_actions.extend(
            a for a in result.actions if isinstance(a, m.Escalate) and a.reason == "risk"
        )
        await self._persist_run(session, patient, row, result, turn)
        # At most three messages per turn: a longer burst of texts is combined (bot/combine.py).
        for action in combine(result.actions):
            await self.handlers.handle(turn, action)
        return result

    async def _facts(self, turn: Turn) -> dict[str, Any]:
        identity = await turn.identity()
        # Flows branch on the channel (buttons on Telegram, one compact text on SMS).
        facts: dict[str, Any] = {"channel": identity.channel if identity else turn.channel}
        for provider in self.fact_providers:
            facts.update(await provider(turn))
        return facts

    async def _load_versions(self, session: AsyncSession, run: m.RunState) -> None:
        for flow_id, version in [(run.flow_id, run.flow_version)] + [
            (f.flow_id, f.flow_version) for f in run.stack
        ]:
            if self.library.has_version(flow_id, version):
                continue
            snapshot = await repo.load_flow_version(session, flow_id, version)
            if snapshot is None:
                raise EngineError(f"flow {flow_id!r} version {version!r} is gone")
            self.library.add_snapshot(snapshot)

    async def _persist_run(
        self,
        session: AsyncSession,
        patient: Patient,
        row: FlowRun | None,
        result: m.StepResult,
        turn: Turn,
    ) -> None:
        run = result.run
        if run is None:
            return
        for flow_id, version in {(run.flow_id, run.flow_version)}:
            if (flow_id, version) not in self._saved_versions:
                flow = self.library.get(flow_id, version)
                await repo.save_flow_version(
                    session, flow_id, version, flow.source.snapshot(), turn.now
                )
                self._saved_versions.add((flow_id, version))
        if row is not None and row.run_key != run.run_id:
            ended = [
                a.outcome
                for a in result.actions
                if isinstance(a, m.FlowEnded) and a.flow_id == row.flow_id
            ]
            row.status, row.ended_at, row.updated_at = RunStatus.ENDED, turn.now, turn.now
            row.outcome = ended[0] if ended else "interrupted"
            row = None
        if row is None:
            row = FlowRun(
                patient_id=patient.id,
                run_key=run.run_id,
                flow_id=run.flow_id,
                flow_version=run.flow_version,
                state=run.state,
                started_at=turn.now,
                updated_at=turn.now,
            )
            session.add(row)
        write_state(row, run, turn.now)
        if run.status == RunStatus.ENDED:
            ended = [a.outcome for a in result.actions if isinstance(a, m.FlowEnded)]
            row.outcome = ended[-1] if ended else "completed"
        # No flush here: the next read flushes first (autoflush), and a batch of check-ins then
        # writes its runs, events and outbox rows in a few multi-row statements at commit.

    async def start_flow(self, patient_id: str, flow_id: str) -> None:
        """Start `flow_id` for a patient now (scheduler, coach or API), under the patient lock."""
        async with self.db.session() as session, session.begin():
            patient = await repo.lock_patient(session, patient_id)
            if patient is None:
                raise KeyError(patient_id)
            await self.advance(
                Turn(self, session, patient, self.clock.now(), None), m.Start(flow_id)
            )
        self.on_outbox()

    async def sweep_unprocessed(self, older_than_seconds: float = 30.0) -> int:
        """Process messages stored but never processed (a crash between store and step)."""
        from datetime import timedelta

        cutoff = self.clock.now() - timedelta(seconds=older_than_seconds)
        async with self.db.session() as session:
            rows = await session.execute(
                select(Message.patient_id)
                .where(
                    Message.direction == "in",
                    Message.status == InboundStatus.RECEIVED,
                    Message.created_at <= cutoff,
                )
                .distinct()
                .limit(100)
            )
            patients = list(rows.scalars())
        for patient_id in patients:
            await self.process_patient(patient_id)
        return len(patients)


async def _program_facts(turn: Turn) -> dict[str, Any]:
    """Every program fact of the turn's patient (the first fact provider)."""
    return await load_facts(turn.session, turn.patient.id)


async def _run(link: Link, turn: Turn, message: Message) -> bool:
    """One link; True when it ended the chain. HOLD marks the turn held (no flow) and goes on."""
    result = await link(turn, message)
    if result is Result.HOLD:
        turn.held = True
    return result is Result.HANDLED
