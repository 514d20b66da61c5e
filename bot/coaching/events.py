"""Live events for the console: an in-process pub/sub fed only after the database commit.

The database stays the truth: an event says "look again at escalation 7", never carries state a
reader must trust. Several processes each publish their own events, so a console also polls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from storage.db import Carried, Database, TandemSession

_PENDING = "tandem_after_commit"


@dataclass(frozen=True)
class LiveEvent:
    # escalation_opened, escalation_updated, takeover_started, takeover_ended,
    # patient_message, coach_message
    kind: str
    at: datetime
    patient_id: str | None = None
    escalation_id: int | None = None
    coach_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


class EventBus:
    """Fan-out to subscribers' bounded queues; a slow subscriber loses events, not the bus."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[LiveEvent]] = set()

    def subscribe(self, maxsize: int = 1000) -> asyncio.Queue[LiveEvent]:
        queue: asyncio.Queue[LiveEvent] = asyncio.Queue(maxsize)
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[LiveEvent]) -> None:
        self._queues.discard(queue)

    def publish(self, live: LiveEvent) -> None:
        for queue in list(self._queues):
            if not queue.full():
                queue.put_nowait(live)


_BUS = Carried[EventBus]("tandem_event_bus")


def configure(db: Database, bus: EventBus) -> None:
    """Every session of `db` publishes its live events to `bus` (the service's own)."""
    _BUS.set(db, bus)


def bus_of(session: AsyncSession) -> EventBus | None:
    return _BUS.get(session)


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's outermost transaction has committed (never on rollback).

    Releasing a savepoint is not that commit: SQLAlchemy fires `after_commit` for savepoints
    too, and a console told "look again" before the outer commit reads the old rows and waits
    for the next poll. A callback registered inside a savepoint that rolls back is dropped;
    those registered before it stay.
    """
    sync = session.sync_session
    sync.info.setdefault(_PENDING, []).append((sync.get_nested_transaction(), callback))


def publish_after_commit(session: AsyncSession, live: LiveEvent) -> None:
    """Publish `live` on the service's bus once the transaction has committed (nowhere when the
    database has no bus: nobody could be listening)."""
    bus = bus_of(session)
    if bus is not None:
        after_commit(session, lambda: bus.publish(live))


def _within(registered: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while registered is not None:
        if registered is ended:
            return True
        registered = registered.parent
    return False


@event.listens_for(TandemSession, "after_commit")
def _run_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released; the outer transaction may still roll back
    for _, callback in session.info.pop(_PENDING, []):
        callback()


@event.listens_for(TandemSession, "after_soft_rollback")
def _drop_pending(session: Session, previous: SessionTransaction) -> None:
    if not previous.nested:
        session.info.pop(_PENDING, None)
        return
    pending = session.info.get(_PENDING, [])
    pending[:] = [(t, cb) for t, cb in pending if not _within(t, previous)]
