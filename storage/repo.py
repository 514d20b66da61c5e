"""Small repository functions shared by the pipeline, the dispatcher and the CLI.

Every function takes an open session inside a transaction: the caller decides what commits together.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar, cast
from uuid import uuid4

from sqlalchemy import Row, Table, Text, bindparam, func, inspect, literal, select
from sqlalchemy import cast as cast_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from storage.models import (
    ChannelIdentity,
    Event,
    FlowRun,
    FlowVersion,
    Message,
    OutboxItem,
    Patient,
    PatientFact,
)
from storage.statuses import InboundStatus, OutboundStatus, OutboxStatus, PatientStatus, RunStatus
from storage.writes import buffer_of

_T = TypeVar("_T")


# Hot-path reads as prebuilt Core statements: the ORM's query compilation and row loading cost
# more CPU than the round trip (issue 10). Rows become session objects through `_adopt`.
_patients = cast(Table, Patient.__table__)
_identities = cast(Table, ChannelIdentity.__table__)
_runs = cast(Table, FlowRun.__table__)
_PATIENT_AT = (
    select(_patients)
    .join(_identities, _identities.c.patient_id == _patients.c.id)
    .where(
        _identities.c.channel == bindparam("r_channel"),
        _identities.c.address == bindparam("r_address"),
    )
)
_facts = cast(Table, PatientFact.__table__)
# The turn's other reads ride on the locked read of the patient: the latest unfinished flow run
# (as `active_run` finds it) and every program fact, so the common message needs no more reads.
_RUN_ID = (
    select(func.max(_runs.c.id))
    .where(_runs.c.patient_id == _patients.c.id, _runs.c.status != RunStatus.ENDED)
    .correlate(_patients)
    .scalar_subquery()
)


def _facts_agg(dialect: str) -> Any:
    pairs = (
        func.json_object_agg(_facts.c.name, _facts.c.value)
        if dialect == "postgresql"
        else func.json_group_object(_facts.c.name, func.json(_facts.c.value))
    )
    return (
        select(cast_(pairs, Text))
        .where(_facts.c.patient_id == _patients.c.id)
        .correlate(_patients)
        .scalar_subquery()
        .label("p_facts")
    )


def _locked_read(dialect: str) -> Any:
    query = (
        select(_patients, *[c.label("r_" + c.name) for c in _runs.c], _facts_agg(dialect))
        .select_from(
            _patients.join(_identities, _identities.c.patient_id == _patients.c.id).outerjoin(
                _runs, _runs.c.id == _RUN_ID
            )
        )
        .where(
            _identities.c.channel == bindparam("r_channel"),
            _identities.c.address == bindparam("r_address"),
        )
    )
    return query.with_for_update(of=_patients) if dialect == "postgresql" else query


_PATIENT_AT_LOCKED = {name: _locked_read(name) for name in ("postgresql", "sqlite")}
_PRELOAD = "tandem_preload"
_messages = cast(Table, Message.__table__)
# What the lean path reads of each stored, unprocessed message.
_PENDING_COLUMNS = [
    "id",
    "channel",
    "provider_message_id",
    "body",
    "payload",
    "error",
    "created_at",
    "updated_at",
]
_PENDING = (
    select(*[_messages.c[name] for name in _PENDING_COLUMNS])
    .where(
        _messages.c.patient_id == bindparam("i_patient"),
        _messages.c.direction == "in",
        _messages.c.status == InboundStatus.RECEIVED,
    )
    .order_by(_messages.c.id)
)
_INBOUND_VALUES = {
    "patient_id": bindparam("i_patient"),
    "direction": "in",
    "channel": bindparam("i_channel"),
    "provider_message_id": bindparam("i_provider_id"),
    "body": bindparam("i_body"),
    "payload": bindparam("i_payload"),
    "status": InboundStatus.RECEIVED,
    "created_at": bindparam("i_now"),
    "updated_at": bindparam("i_now"),
}


def _store_pending_pg() -> Any:
    # One round trip on PostgreSQL: the INSERT in a data-modifying CTE, and the patient's
    # earlier unprocessed messages (the CTE's row is not visible to the outer read) beside it.
    inserted = (
        postgresql.insert(_messages)
        .values(_INBOUND_VALUES)
        .on_conflict_do_nothing(index_elements=["channel", "provider_message_id"])
        .returning(*[_messages.c[name] for name in _PENDING_COLUMNS])
        .cte("inserted")
    )
    new = select(*[inserted.c[name] for name in _PENDING_COLUMNS], literal(True).label("new"))
    old = _PENDING.order_by(None).add_columns(literal(False).label("new"))
    union = new.union_all(old).subquery()
    return select(union).order_by(union.c.id)


_STORE_PENDING_PG = _store_pending_pg()
_INSERT_INBOUND_SQLITE = (
    sqlite.insert(_messages)
    .values(_INBOUND_VALUES)
    .on_conflict_do_nothing(index_elements=["channel", "provider_message_id"])
    .returning(_messages.c.id)
)
_ACTIVE_RUN = (
    select(_runs)
    .where(_runs.c.patient_id == bindparam("r_patient"), _runs.c.status != RunStatus.ENDED)
    .order_by(_runs.c.id.desc())
    .limit(1)
)


async def _core_row(session: AsyncSession, query: Any, params: dict[str, Any]) -> Row[Any] | None:
    # What autoflush would do for an ORM query: pending changes are visible to the read.
    if session.new or session.dirty or session.deleted:
        await session.flush()
    conn = await session.connection()
    return (await conn.execute(query, params)).first()


async def _adopt(
    session: AsyncSession, cls: type[_T], row: Row[Any] | Mapping[str, Any], *, lock: bool = False
) -> _T:
    """The session's object for a row read with Core, without an ORM load: changes to it
    flush as UPDATEs. An object the session already holds is returned as is (refreshed when
    the row was read under a lock, as `populate_existing` did)."""
    values = row._mapping if isinstance(row, Row) else row
    key = identity_key(cls, values[inspect(cls).primary_key[0].name])
    existing = session.sync_session.identity_map.get(key)
    if existing is not None:
        if lock:
            await session.refresh(existing)
        found: _T = existing
        return found
    obj = cls(**values)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def is_postgres(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


async def find_patient(
    session: AsyncSession, channel: str, address: str, *, lock: bool = False
) -> Patient | None:
    """The patient behind (channel, address); `lock` also takes their conversation lock (and
    preloads their active run and program facts for `active_run` and `preloaded_facts`)."""
    params = {"r_channel": channel, "r_address": address}
    if not lock:
        row = await _core_row(session, _PATIENT_AT, params)
        return None if row is None else await _adopt(session, Patient, row)
    dialect = "postgresql" if is_postgres(session) else "sqlite"
    row = await _core_row(session, _PATIENT_AT_LOCKED[dialect], params)
    if row is None:
        return None
    mapping = row._mapping
    patient = await _adopt(session, Patient, {c.name: mapping[c] for c in _patients.c}, lock=True)
    run = None
    if mapping["r_id"] is not None:
        run = await _adopt(session, FlowRun, {c.name: mapping["r_" + c.name] for c in _runs.c})
    raw = mapping["p_facts"]
    facts = json.loads(raw) if isinstance(raw, str) else dict(raw or {})
    session.sync_session.info.setdefault(_PRELOAD, {})[patient.id] = {"run": run, "facts": facts}
    return patient


_LIVE_RUNS = (
    select(_runs)
    .where(_runs.c.patient_id.in_(bindparam("b_patients", expanding=True)))
    .where(_runs.c.status != RunStatus.ENDED)
    .order_by(_runs.c.id)
)
_BATCH_FACTS = select(_facts.c.patient_id, _facts.c.name, _facts.c.value).where(
    _facts.c.patient_id.in_(bindparam("b_patients", expanding=True))
)


async def preload(session: AsyncSession, patient_ids: list[str]) -> None:
    """Read the active run and program facts of many patients whose locks this transaction
    holds, in two queries, for `active_run` and `preloaded_facts` (a batch of check-ins would
    otherwise pay two round trips a patient)."""
    if not patient_ids:
        return
    conn = await session.connection()
    params = {"b_patients": patient_ids}
    latest: dict[str, Row[Any]] = {}
    for row in await conn.execute(_LIVE_RUNS, params):
        latest[row.patient_id] = row  # ordered by id: the last one is the active run
    facts: dict[str, dict[str, Any]] = {patient_id: {} for patient_id in patient_ids}
    for patient_id, name, value in await conn.execute(_BATCH_FACTS, params):
        facts[patient_id][name] = value
    info = session.sync_session.info.setdefault(_PRELOAD, {})
    for patient_id in patient_ids:
        found = latest.get(patient_id)
        run = None if found is None else await _adopt(session, FlowRun, found)
        info[patient_id] = {"run": run, "facts": facts[patient_id]}


def preloaded_facts(session: AsyncSession, patient_id: str) -> dict[str, Any] | None:
    """The patient's program facts as read with their lock in this transaction (kept current
    by `bot.facts.set_facts`), or None when they were not preloaded."""
    found = session.sync_session.info.get(_PRELOAD, {}).get(patient_id)
    return None if found is None else cast(dict[str, Any], found["facts"])


async def get_or_create_patient(
    session: AsyncSession,
    channel: str,
    address: str,
    now: datetime,
    *,
    locale: str,
    timezone: str,
    lock: bool = False,
) -> tuple[Patient, bool]:
    """The patient behind (channel, address), enrolling a new one on first contact.

    With `lock`, an existing patient comes back with their conversation lock held (a new one is
    not visible to anyone else until commit).
    """
    existing = await find_patient(session, channel, address, lock=lock)
    if existing is not None:
        return existing, False
    patient = Patient(
        id=str(uuid4()),
        created_at=now,
        locale=locale,
        timezone=timezone,
        status=PatientStatus.ACTIVE,
    )
    session.add(patient)
    await session.flush()
    inserted = await session.execute(
        _insert(session, ChannelIdentity)
        .values(patient_id=patient.id, channel=channel, address=address, created_at=now)
        .on_conflict_do_nothing(index_elements=["channel", "address"])
        .returning(ChannelIdentity.id)
    )
    if inserted.scalar_one_or_none() is None:
        # Another request enrolled the same address first: use theirs.
        await session.delete(patient)
        await session.flush()
        winner = await find_patient(session, channel, address, lock=lock)
        assert winner is not None
        return winner, False
    await log(session, now, "patient_enrolled", patient.id, {"channel": channel})
    return patient, True


async def insert_inbound(
    session: AsyncSession,
    patient_id: str,
    channel: str,
    provider_message_id: str | None,
    body: str,
    payload: str | None,
    now: datetime,
) -> int | None:
    """Store an inbound message; None when this provider id was stored before (a retry)."""
    result = await session.execute(
        _insert(session, Message)
        .values(
            patient_id=patient_id,
            direction="in",
            channel=channel,
            provider_message_id=provider_message_id,
            body=body,
            payload=payload,
            status=InboundStatus.RECEIVED,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["channel", "provider_message_id"])
        .returning(Message.id)
    )
    return result.scalar_one_or_none()


async def store_inbound_pending(
    session: AsyncSession,
    patient_id: str,
    channel: str,
    provider_message_id: str | None,
    body: str,
    payload: str | None,
    now: datetime,
) -> tuple[int | None, list[Row[Any]]]:
    """`insert_inbound` plus the patient's unprocessed messages in id order (the new one
    included); (None, []) for a retry. One statement on PostgreSQL, two on SQLite."""
    params = {
        "i_patient": patient_id,
        "i_channel": channel,
        "i_provider_id": provider_message_id,
        "i_body": body,
        "i_payload": payload,
        "i_now": now,
    }
    conn = await session.connection()
    if is_postgres(session):
        rows = list((await conn.execute(_STORE_PENDING_PG, params)).all())
        new_id = next((row.id for row in rows if row.new), None)
        return (new_id, rows) if new_id is not None else (None, [])
    new_id = (await conn.execute(_INSERT_INBOUND_SQLITE, params)).scalar_one_or_none()
    if new_id is None:
        return None, []
    return new_id, list((await conn.execute(_PENDING, {"i_patient": patient_id})).all())


async def pending_rows(session: AsyncSession, patient_id: str) -> list[Row[Any]]:
    """The patient's unprocessed messages as Core rows (id order)."""
    conn = await session.connection()
    return list((await conn.execute(_PENDING, {"i_patient": patient_id})).all())


async def lock_patient(session: AsyncSession, patient_id: str) -> Patient | None:
    """Take the patient's conversation lock: a row lock on PostgreSQL.

    SQLite needs nothing more: every transaction there starts with BEGIN IMMEDIATE, which already
    serializes writers.
    """
    query = (
        select(Patient).where(Patient.id == patient_id).execution_options(populate_existing=True)
    )
    if is_postgres(session):
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def pending_inbound(session: AsyncSession, patient_id: str) -> list[Message]:
    rows = await session.execute(
        select(Message)
        .where(
            Message.patient_id == patient_id,
            Message.direction == "in",
            Message.status == InboundStatus.RECEIVED,
        )
        .order_by(Message.id)
    )
    return list(rows.scalars())


async def active_run(session: AsyncSession, patient_id: str) -> FlowRun | None:
    preloaded = session.sync_session.info.get(_PRELOAD, {}).get(patient_id)
    if preloaded is not None and "run" in preloaded:
        # Read with the lock, and nothing has changed flow runs since: the first look-up of a
        # turn needs no query. Later ones read again, as the turn may have started a run.
        run: FlowRun | None = preloaded.pop("run")
        return run
    row = await _core_row(session, _ACTIVE_RUN, {"r_patient": patient_id})
    return None if row is None else await _adopt(session, FlowRun, row)


async def peek_active_run(session: AsyncSession, patient_id: str) -> FlowRun | None:
    """As `active_run`, but a preloaded run stays there for the turn's engine step (a look that
    only decides whether to step at all costs no extra query)."""
    preloaded = session.sync_session.info.get(_PRELOAD, {}).get(patient_id)
    if preloaded is not None and "run" in preloaded:
        run: FlowRun | None = preloaded["run"]
        return run
    return await active_run(session, patient_id)


async def enqueue(
    session: AsyncSession,
    patient_id: str,
    channel: str,
    address: str,
    body: str,
    now: datetime,
    *,
    choices: list[Any] | None = None,
    priority: int = 0,
    flush: bool = True,
) -> OutboxItem:
    """An outbound message and its outbox row, written in the caller's transaction.

    Without `flush` the rows wait for the session's next flush (ids unset until then), so a step
    that sends several messages writes them in one batch.
    """
    message = Message(
        patient_id=patient_id,
        direction="out",
        channel=channel,
        body=body,
        status=OutboundStatus.QUEUED,
        created_at=now,
        updated_at=now,
    )
    item = OutboxItem(
        patient_id=patient_id,
        message=message,
        channel=channel,
        address=address,
        body=body,
        choices=choices or [],
        priority=priority,
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(item)
    if flush:
        await session.flush()
    return item


async def primary_identity(session: AsyncSession, patient_id: str) -> ChannelIdentity | None:
    """The channel a patient last wrote from is where replies go."""
    rows = await session.execute(
        select(ChannelIdentity)
        .where(ChannelIdentity.patient_id == patient_id)
        .order_by(ChannelIdentity.id.desc())
        .limit(1)
    )
    return rows.scalar_one_or_none()


async def save_flow_version(
    session: AsyncSession, flow_id: str, version: str, snapshot: Mapping[str, Any], now: datetime
) -> None:
    await session.execute(
        _insert(session, FlowVersion)
        .values(flow_id=flow_id, version=version, snapshot=dict(snapshot), created_at=now)
        .on_conflict_do_nothing(index_elements=["flow_id", "version"])
    )


async def load_flow_version(
    session: AsyncSession, flow_id: str, version: str
) -> Mapping[str, Any] | None:
    rows = await session.execute(
        select(FlowVersion.snapshot).where(
            FlowVersion.flow_id == flow_id, FlowVersion.version == version
        )
    )
    return rows.scalar_one_or_none()


async def log(
    session: AsyncSession,
    at: datetime,
    kind: str,
    patient_id: str | None,
    data: Mapping[str, Any] | None = None,
    *,
    flow_id: str | None = None,
    flow_version: str | None = None,
) -> None:
    """Append to the event log (never updated, never deleted)."""
    buffer = buffer_of(session)
    if buffer is not None:  # the lean inbound path: one batched INSERT per turn
        buffer.event(
            {
                "at": at,
                "kind": kind,
                "patient_id": patient_id,
                "flow_id": flow_id,
                "flow_version": flow_version,
                "data": dict(data or {}),
            }
        )
        return
    session.add(
        Event(
            at=at,
            kind=kind,
            patient_id=patient_id,
            flow_id=flow_id,
            flow_version=flow_version,
            data=dict(data or {}),
        )
    )
