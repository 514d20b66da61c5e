"""Who an export covers, read in keyset-paged chunks so memory stays flat however many patients
there are, and the small formatting rules every file shares (UTC ISO times, local days)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Executable, and_, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.research.ids import participant_id
from storage.db import Database
from storage.models import Patient, PatientFact, StudyEnrolment

CHUNK = 500
ERASED = "erased"


@dataclass(frozen=True)
class Window:
    """`--since` / `--until`: a half-open UTC interval [since, until) over time-stamped rows."""

    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        for value in (self.since, self.until):
            if value is not None and value.tzinfo is None:
                raise ValueError("export window times must carry a time zone")
        if self.since and self.until and self.since >= self.until:
            raise ValueError("since must be before until")

    def contains(self, at: datetime) -> bool:
        return (self.since is None or at >= self.since) and (self.until is None or at < self.until)

    def clause(self, column: InstrumentedAttribute[datetime]) -> ColumnElement[bool]:
        parts = []
        if self.since is not None:
            parts.append(column >= self.since)
        if self.until is not None:
            parts.append(column < self.until)
        return and_(*parts) if parts else true()


@dataclass(frozen=True)
class Person:
    """One exported patient: the pseudonym and what the files need, never an identifier."""

    patient_id: str  # internal; written only by --identified
    participant_id: str
    timezone: str
    created_at: datetime
    status: str
    program: str
    enrolment: StudyEnrolment | None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def start(self) -> datetime:
        """When the participant's data starts: study enrolment, else joining care."""
        return self.enrolment.enrolled_at if self.enrolment else self.created_at


def iso(value: datetime | None) -> str:
    """UTC, second precision, 'Z' suffix: what pandas.to_datetime and R's as.POSIXct read."""
    if value is None:
        return ""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


async def each(session: AsyncSession, query: Executable, size: int = 1000) -> AsyncIterator[Any]:
    """The query's rows, fetched `size` at a time: one round trip (and one switch into the
    driver) per batch instead of per row, with only one batch in memory."""
    result = await session.stream(query.execution_options(yield_per=size))
    async for part in result.partitions(size):
        for row in part:
            yield row


def local_day(value: datetime, zone: ZoneInfo) -> date:
    return value.astimezone(zone).date()


def exported() -> ColumnElement[bool]:
    """Patients a research export includes: not erased, and not one who declined consent."""
    return and_(
        Patient.status != ERASED,
        or_(Patient.consent_given.is_(None), Patient.consent_given.is_(True)),
    )


async def current_study(session: AsyncSession) -> str:
    """The study id of the latest enrolment ("" when nobody is in a study): the namespace of
    the pseudonyms given to patients outside it."""
    row = await session.scalar(
        select(StudyEnrolment.study_id).order_by(StudyEnrolment.enrolled_at.desc()).limit(1)
    )
    return row or ""


async def count(db: Database, window: Window) -> int:
    async with db.session() as session:
        query = select(func.count()).select_from(Patient).where(exported())
        if window.until is not None:
            query = query.where(Patient.created_at < window.until)
        return int(await session.scalar(query) or 0)


async def chunks(
    db: Database, window: Window, key: str, size: int | None = None
) -> AsyncIterator[list[Person]]:
    """Exported patients in patient-id order, `size` (default CHUNK) at a time, each chunk its
    own short read (no transaction held across the whole export)."""
    size = size or CHUNK
    async with db.session() as session:
        study = await current_study(session)
    last = ""
    while True:
        async with db.session() as session:
            query = (
                select(Patient, StudyEnrolment, PatientFact.value)
                .outerjoin(StudyEnrolment, StudyEnrolment.patient_id == Patient.id)
                .outerjoin(
                    PatientFact,
                    and_(PatientFact.patient_id == Patient.id, PatientFact.name == "program"),
                )
                .where(exported(), Patient.id > last)
                .order_by(Patient.id)
                .limit(size)
            )
            if window.until is not None:
                query = query.where(Patient.created_at < window.until)
            rows = (await session.execute(query)).all()
        if not rows:
            return
        people = []
        for patient, enrolment, program in rows:
            pseudonym = (
                enrolment.participant_id
                if enrolment is not None
                else participant_id(study, patient.id, key)
            )
            people.append(
                Person(
                    patient_id=patient.id,
                    participant_id=pseudonym,
                    timezone=patient.timezone,
                    created_at=patient.created_at,
                    status=patient.status,
                    program=str(program or patient.program or ""),
                    enrolment=enrolment,
                )
            )
        yield people
        last = rows[-1][0].id
