"""The dispatcher: hands queued outbox rows to their channel, in order per patient, at least once.

Ordering: a row is claimed only when no earlier (or more urgent) row of the same patient is still
pending or in flight, so the next message is not handed to a provider before the previous one was
accepted. Crash safety: a claimed row is marked `sending` before the provider call; if the process
dies mid-call the lease expires and the row is sent again (the one at-least-once edge: the provider
may have accepted the first attempt). A row the provider accepted is marked `sent` and never sent
again. Retries back off exponentially with jitter (tenacity's wait policy), honouring Retry-After.

Throttling: a channel may carry a `throttle` (bot.channels.throttle.Throttle); each send waits on
it first, so the provider's rate per sender and per recipient is never exceeded by this process.
Opted-out patients: their ordinary (priority 0) rows are cancelled visibly when they opt out
(`cancel_for_patient`); crisis replies and opt-out confirmations (higher priority) still go.
Claims and leases are stamped with the database's clock, and the claim walks a partial index of
pending rows in order, so its cost does not grow with the queue.

Staff alerts (`audience = "staff"`, bot/coaching/notify.py) are rows too, with no patient and no
message: claimed oldest first and one at a time per staff phone, retried and throttled like the
rest (a retrying alert does not hold up a newer one: alerts are independent), and a final failure
is logged and recorded (`staff_alert_failed`) without running the failure hooks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import structlog
from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from tenacity import RetryCallState, wait_exponential_jitter

from bot import metrics
from bot.channels.base import Choice, OutboundMessage, Sender, SendError, SendResult
from bot.channels.parts import PartsResult
from bot.channels.throttle import Throttle
from bot.clock import Clock
from bot.delivery import record_parts
from storage import repo
from storage.db import Database, plan_afresh
from storage.models import ChannelIdentity, Event, Message, OutboxItem, Patient
from storage.statuses import OutboundStatus, OutboxStatus, PatientStatus

log = structlog.get_logger("tandem.outbox")
# Channels only the process that has them can deliver (`tandem chat` prints its replies): other
# dispatchers on the same database never claim their rows, and a dispatcher that has one claims
# only rows of its own channels (bot/channels/trychat.py).
PROCESS_LOCAL = frozenset({"terminal"})
_backoff = wait_exponential_jitter(multiplier=2, max=15 * 60, jitter=2)

# Called after a permanent failure (e.g. the patient opted out at the provider).
FailureHook = Callable[[OutboundMessage, SendError], Awaitable[None]]


@dataclass(frozen=True)
class DispatcherConfig:
    batch_size: int = 50
    lease: timedelta = timedelta(seconds=120)
    horizon: timedelta = timedelta(hours=24)
    poll_interval: float = 1.0


def backoff_seconds(attempts: int, retry_after: float | None) -> float:
    state = cast(RetryCallState, SimpleNamespace(attempt_number=max(1, attempts)))
    delay = _backoff(state)
    return max(delay, retry_after) if retry_after is not None else delay


class Dispatcher:
    def __init__(
        self,
        db: Database,
        channels: Mapping[str, Sender],
        clock: Clock,
        config: DispatcherConfig | None = None,
    ) -> None:
        self.db = db
        self.channels = dict(channels)
        self.clock = clock
        self.config = config or DispatcherConfig()
        self.failure_hooks: list[FailureHook] = []
        self._wakeup = asyncio.Event()
        # (channel, address): claim only this conversation's rows (a `tandem chat` process, so
        # two terminals on one database never print, or swallow, each other's replies).
        self.only: tuple[str, str] | None = None

    def wake(self) -> None:
        self._wakeup.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatch until `stop` is set; wakes early when new rows are queued."""
        while not stop.is_set():
            try:
                sent = await self.dispatch_once()
            except Exception:  # keep the loop alive through a database blip
                log.exception("dispatch_failed")
                sent = 0
            if sent:
                continue
            self._wakeup.clear()
            waiters = [
                asyncio.ensure_future(self._wakeup.wait()),
                asyncio.ensure_future(stop.wait()),
            ]
            await asyncio.wait(
                waiters, timeout=self.config.poll_interval, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in waiters:
                waiter.cancel()

    async def dispatch_once(self) -> int:
        """Claim a batch of due rows, send them, record the outcomes. Returns rows handled."""
        items = await self._claim()
        if not items:
            return 0
        results = await asyncio.gather(
            *(self._send(item) for item in items), return_exceptions=True
        )
        # One transaction for the whole batch: recording is the dispatcher's main cost.
        failed = await self._record(list(zip(items, results, strict=True)))
        for item, error in failed:
            for hook in self.failure_hooks:
                await hook(item, error)
        return len(items)

    def _batch_limit(self) -> int:
        """Throttled channels get a batch they can send in about two seconds, so an urgent row
        queued meanwhile waits for that, not for a long throttled batch."""
        limit = 0
        for channel in self.channels.values():
            throttle = getattr(channel, "throttle", None)
            if not isinstance(throttle, Throttle) or throttle.overall_rate <= 0:
                return self.config.batch_size
            limit += max(1, int(throttle.overall_rate * 2))
        return max(1, min(self.config.batch_size, limit or self.config.batch_size))

    async def drain(self, max_rounds: int = 1000) -> int:
        """Dispatch until nothing is due now (tests and `tandem chat`)."""
        total = 0
        for _ in range(max_rounds):
            handled = await self.dispatch_once()
            if not handled:
                break
            total += handled
        return total

    def claim_query(self, now: datetime, limit: int) -> Select[OutboxItem, str]:
        """Due rows whose patient has nothing earlier pending or in flight, in claim order.

        It walks ix_outbox_pending_priority_id in order and stops after `limit` claimable rows,
        so a claim costs the same at any queue depth, given planner statistics (autovacuum, or
        ANALYZE after a bulk load); tests/bot/test_outbox.py checks the plan on PostgreSQL.
        """
        # Statuses are written into the statement, not bound: asyncpg prepares it and
        # PostgreSQL soon switches to a generic plan, which can use the partial index and
        # the per-patient probes below only when it can see the status (bound, one claim took
        # 75 ms with 16 patients a thousand rows deep; literal, 1 ms).
        pending, sending = _literal(OutboxStatus.PENDING), _literal(OutboxStatus.SENDING)
        # Two probes of ix_outbox_patient_status_id, each stopping at its first hit: the
        # patient has a row in flight, or a more urgent or older row still pending.
        in_flight, ahead = aliased(OutboxItem), aliased(OutboxItem)
        blocked_in_flight = exists().where(
            in_flight.patient_id == OutboxItem.patient_id, in_flight.status == sending
        )
        blocked_behind = exists().where(
            ahead.patient_id == OutboxItem.patient_id,
            ahead.status == pending,
            or_(
                ahead.priority > OutboxItem.priority,
                and_(ahead.priority == OutboxItem.priority, ahead.id < OutboxItem.id),
            ),
        )
        # The patient's status rides along, so an opted-out patient's stray row is caught at
        # no extra round trip.
        query = (
            select(OutboxItem, Patient.status)
            .outerjoin(Patient, Patient.id == OutboxItem.patient_id)  # staff rows have none
            .where(
                OutboxItem.status == pending,
                OutboxItem.next_attempt_at <= now,
                ~blocked_in_flight,
                ~blocked_behind,
            )
            .order_by(OutboxItem.priority.desc(), OutboxItem.id)
            .limit(limit)
        )
        if self.only is not None:
            query = query.where(
                OutboxItem.channel == self.only[0], OutboxItem.address == self.only[1]
            )
        elif PROCESS_LOCAL & set(self.channels):
            query = query.where(or_(*(OutboxItem.channel == c for c in sorted(self.channels))))
        else:
            # Plain comparisons, not an expanding IN: the statement compiles as it is for EXPLAIN.
            query = query.where(*(OutboxItem.channel != c for c in sorted(PROCESS_LOCAL)))
        if self.db.is_postgres:
            query = query.with_for_update(skip_locked=True, of=OutboxItem)
        return query

    def _db_now(self) -> Any:
        """The database's clock for claims and leases, so dispatchers on hosts whose clocks
        disagree never take each other's in-flight rows for expired. SQLite is one host."""
        return func.now() if self.db.is_postgres else datetime.now(UTC)

    async def _claim(self) -> list[OutboundMessage]:
        now = self.clock.now()
        limit = self._batch_limit()
        query = self.claim_query(now, limit)
        db_now = self._db_now()
        async with self.db.session() as session, session.begin():
            # A generic plan probed every pending row against every other (100-400 ms a claim
            # with a thousand queued, dispatch falling behind the inbound path that fills it).
            await plan_afresh(session)
            # In-flight rows whose lease ran out belong to a process that died: send them again.
            await session.execute(
                update(OutboxItem)
                .where(
                    OutboxItem.status == OutboxStatus.SENDING,
                    OutboxItem.claimed_at < db_now - self.config.lease,
                )
                .values(status=OutboxStatus.PENDING)
            )
            rows = [(r[0], r[1]) for r in await session.execute(query)]
            seen: set[str] = set()
            claimed: list[OutboxItem] = []
            for row, patient_status in rows:
                # One in flight per patient keeps their messages in order; staff alerts (no
                # patient) go one at a time per staff phone.
                key = row.patient_id or f"staff:{row.channel}:{row.address}"
                if key in seen:
                    continue
                seen.add(key)
                # A row queued after the opt-out's own cancel (which took all it found then).
                stray = patient_status == PatientStatus.OPTED_OUT and row.priority == 0
                if (
                    stray
                    and row.patient_id
                    and await cancel_for_patient(session, row.patient_id, now)
                ):
                    continue
                claimed.append(row)
            if claimed:
                await session.execute(
                    update(OutboxItem)
                    .where(OutboxItem.id.in_([row.id for row in claimed]))
                    .values(
                        status=OutboxStatus.SENDING,
                        claimed_at=db_now,
                        attempts=OutboxItem.attempts + 1,
                    )
                    .execution_options(synchronize_session=False)
                )
        return [_outbound(row) for row in claimed]

    async def _send(self, item: OutboundMessage) -> SendResult:
        channel = self.channels.get(item.channel)
        if channel is None:
            raise SendError(f"channel {item.channel!r} is not configured")
        throttle = getattr(channel, "throttle", None)
        if isinstance(throttle, Throttle):
            await throttle.acquire(item.address)
        return await channel.send(item)

    async def _record(
        self, outcomes: list[tuple[OutboundMessage, SendResult | BaseException]]
    ) -> list[tuple[OutboundMessage, SendError]]:
        """Store every outcome; returns the permanent failures (for the failure hooks)."""
        now = self.clock.now()
        failed: list[tuple[OutboundMessage, SendError]] = []
        ids = [item.outbox_id for item, _ in outcomes]
        async with self.db.session() as session, session.begin():
            # Two queries for the whole batch instead of two per row.
            rows = {
                r.id: r
                for r in (await session.execute(select(OutboxItem).where(OutboxItem.id.in_(ids))))
                .scalars()
                .all()
            }
            message_ids = [r.message_id for r in rows.values() if r.message_id is not None]
            messages = {
                m.id: m
                for m in (await session.execute(select(Message).where(Message.id.in_(message_ids))))
                .scalars()
                .all()
            }
            refs: list[tuple[str, int, tuple[str, ...]]] = []
            for item, result in outcomes:
                row = rows.get(item.outbox_id)
                if row is None:
                    continue
                if row.message_id is None:  # a staff alert
                    await self._staff_outcome(session, row, result, now)
                    continue
                message = messages.get(row.message_id)
                if message is None:
                    continue
                message.updated_at = now
                if isinstance(result, SendResult):
                    refs.append(
                        (row.channel, message.id, self._sent(session, row, message, result, now))
                    )
                    continue
                error = result if isinstance(result, SendError) else SendError(repr(result))
                if await self._failed(session, row, message, error, now):
                    failed.append((item, error))
            await record_parts(session, refs, now)
        final = {id(item) for item, _ in failed}
        for item, result in outcomes:
            log.info("outbox_result", outbox_id=item.outbox_id, ok=isinstance(result, SendResult))
            sent = isinstance(result, SendResult)
            outcome = "sent" if sent else "failed" if id(item) in final else "retry"
            metrics.SENDS.labels(item.channel, outcome).inc()
        return failed

    def _sent(
        self, session: Any, row: OutboxItem, message: Message, result: SendResult, now: Any
    ) -> tuple[str, ...]:
        """Mark a row sent; returns the provider ids it went out as."""
        row.status, row.sent_at, row.last_error = OutboxStatus.SENT, now, None
        message.status = OutboundStatus.SENT
        message.provider_message_id = result.provider_message_id
        parts = result.part_ids if isinstance(result, PartsResult) else ()
        if not parts and result.provider_message_id:
            parts = (result.provider_message_id,)
        session.add(
            Event(
                at=now, kind="message_sent", patient_id=row.patient_id, data=_sent_data(row, result)
            )
        )
        return parts

    async def _staff_outcome(
        self, session: Any, row: OutboxItem, result: SendResult | BaseException, now: Any
    ) -> None:
        """A staff alert's outcome: sent, retried later, or failed for good (logged, recorded)."""
        if isinstance(result, SendResult):
            row.status, row.sent_at, row.last_error = OutboxStatus.SENT, now, None
            await repo.log(session, now, "staff_alert_sent", None, _sent_data(row, result))
            return
        error = result if isinstance(result, SendError) else SendError(repr(result))
        if await self._failed(session, row, None, error, now):
            log.error("staff_alert_failed", outbox_id=row.id, code=error.code)

    async def _failed(
        self, session: Any, row: OutboxItem, message: Message | None, error: SendError, now: Any
    ) -> bool:
        """Record a failed attempt; True when it is final (permanent or past the horizon)."""
        row.last_error = error.reason[:2000]
        expired = now - row.created_at >= self.config.horizon
        if not (error.permanent or expired):
            row.status = OutboxStatus.PENDING
            delay = backoff_seconds(row.attempts, error.retry_after)
            row.next_attempt_at = now + timedelta(seconds=delay)
            return False
        row.status = OutboxStatus.FAILED
        if message is None:
            data = {"outbox_id": row.id, "code": error.code, "expired": expired}
            await repo.log(session, now, "staff_alert_failed", None, data)
            return True
        message.status = OutboundStatus.FAILED
        message.error = error.reason[:2000]
        data = {
            "outbox_id": row.id,
            "code": error.code,
            "expired": expired,
            "reason": error.reason[:200],
        }
        await repo.log(session, now, "message_failed", row.patient_id, data)
        return True


async def cancel_for_patient(session: AsyncSession, patient_id: str, now: datetime) -> int:
    """Cancel, visibly, the ordinary rows queued for an opted-out patient; returns how many.

    Called in the opt-out's own transaction (bot.optout.opt_out), so the dispatcher never
    sweeps for them. Kept: urgent rows (priority > 0: crisis replies, opt-out confirmations) and
    rows not addressed to one of the patient's own channel addresses (staff alerts about them).
    """
    own = select(ChannelIdentity.channel, ChannelIdentity.address).where(
        ChannelIdentity.patient_id == patient_id
    )
    result = await session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.patient_id == patient_id,
            OutboxItem.status == OutboxStatus.PENDING,
            OutboxItem.priority == 0,
            tuple_(OutboxItem.channel, OutboxItem.address).in_(own),
        )
        .values(status=OutboxStatus.CANCELLED, last_error="patient opted out")
        .returning(OutboxItem.id, OutboxItem.message_id)
        .execution_options(synchronize_session="fetch")
    )
    cancelled = [(row[0], row[1]) for row in result]
    if not cancelled:
        return 0
    await session.execute(
        update(Message)
        .where(Message.id.in_([message_id for _, message_id in cancelled]))
        .values(status=OutboundStatus.FAILED, error="not sent: patient opted out", updated_at=now)
        .execution_options(synchronize_session="fetch")
    )
    for outbox_id, _ in cancelled:
        await repo.log(session, now, "message_cancelled", patient_id, {"outbox_id": outbox_id})
    return len(cancelled)


def _literal(status: OutboxStatus) -> ColumnElement[str]:
    return literal(status.value, String(), literal_execute=True)


def _outbound(row: OutboxItem) -> OutboundMessage:
    return OutboundMessage(
        outbox_id=row.id,
        patient_id=row.patient_id or "",
        channel=row.channel,
        address=row.address,
        text=row.body,
        choices=tuple(Choice(c["label"], c["value"]) for c in row.choices or []),
        urgent=row.priority > 0,
        staff=row.patient_id is None,
    )


def _sent_data(row: OutboxItem, result: SendResult) -> dict[str, Any]:
    return {"outbox_id": row.id, "attempts": row.attempts, "segments": result.segments}
