"""Measure administrations from the event log: `measure` events (one per item answered) followed
by one `measure_total` when the measure was scored. measures.csv gets a row per item answered,
with the administration's total and band on each; FHIR (fhir.py) reads the same groups."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.research.people import Person, Window, each, iso
from bot.research.tables import Sink
from storage.models import Event

MEASURES = (
    "participant_id",
    "instrument",
    "administration_id",
    "item",
    "value",
    "total",
    "band",
    "answered_at",
)


@dataclass
class Administration:
    """One sitting of one instrument. `id` is the event-log id of its first answer: unique and
    the same in every export. Never carries the raw reply text an item-9 event may hold."""

    id: int
    person: Person
    instrument: str
    started_at: datetime
    answers: dict[int, tuple[int, datetime]] = field(default_factory=dict)  # item -> value, at
    total: int | None = None
    band: str | None = None
    scored_at: datetime | None = None


async def administrations(
    session: AsyncSession, people: list[Person], window: Window
) -> AsyncIterator[Administration]:
    """The chunk's administrations that started inside the window, in patient then time order.
    Items are grouped by instrument until its total (or a repeated item number) closes them."""
    by_id = {p.patient_id: p for p in people}
    query = (
        select(Event.id, Event.patient_id, Event.kind, Event.at, Event.data)
        .where(Event.patient_id.in_(by_id), Event.kind.in_(("measure", "measure_total")))
        .order_by(Event.patient_id, Event.id)
    )
    if window.until is not None:
        query = query.where(Event.at < window.until)
    open_: dict[tuple[str, str], Administration] = {}
    async for event_id, pid, kind, at, data in each(session, query):
        instrument = str((data or {}).get("measure") or "")
        if not instrument or pid is None:
            continue
        key = (pid, instrument)
        current = open_.get(key)
        if kind == "measure":
            item, value = data.get("item"), data.get("value")
            if not isinstance(item, int) or not isinstance(value, int):
                continue
            if current is not None and item in current.answers:
                open_.pop(key)  # a new sitting began without the last being scored
                if window.contains(current.started_at):
                    yield current
                current = None
            if current is None:
                current = open_[key] = Administration(event_id, by_id[pid], instrument, at)
            current.answers[item] = (value, at)
        else:
            total = data.get("total")
            if current is None or not isinstance(total, int):
                continue  # a total with no answers logged: nothing to attach it to
            current.total, current.band, current.scored_at = total, str(data.get("band", "")), at
            open_.pop(key)
            if window.contains(current.started_at):
                yield current
    for current in sorted(open_.values(), key=lambda a: a.id):
        if window.contains(current.started_at):
            yield current


def measure_rows(admin: Administration, sink: Sink) -> None:
    total = "" if admin.total is None else admin.total
    for item in sorted(admin.answers):
        value, at = admin.answers[item]
        sink.row(
            "measures.csv",
            [
                admin.person.participant_id,
                admin.instrument,
                admin.id,
                item,
                value,
                total,
                admin.band or "",
                iso(at),
            ],
        )
