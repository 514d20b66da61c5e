"""Arm allocation at enrolment: permuted blocks per stratum, reproducible from the study seed.

Each stratum has its own sequence of blocks. Block `b` of stratum `s` is the arms repeated by
ratio (scaled to the block size) and shuffled by `random.Random(block_seed(seed, study, s, b))`, so
the same seed and the same enrolment order within a stratum give the same arms, and every
complete block is exactly balanced. The stratum's counter row is locked while a patient takes the
next place, so concurrent enrolments across processes never share or skip a place.

Participant ids are `HMAC-SHA256(key=f"{study id}:{seed}", patient id)` (24 hex digits): stable per
study, different across studies, and carrying nothing about the person (patient ids are random
UUIDs); linking them back needs the database.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.study.config import Study
from storage import repo
from storage.models import Patient, StudyEnrolment, StudyStratum


def block_seed(seed: int, study_id: str, stratum: str, block: int) -> int:
    digest = hashlib.sha256(f"{seed}|{study_id}|{stratum}|{block}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def block(study: Study, stratum: str, index: int) -> list[str]:
    """The arm ids of block `index` of `stratum`, in allocation order."""
    size = study.randomization.block_size
    total = sum(arm.ratio for arm in study.arms)
    arms = [arm.id for arm in study.arms for _ in range(arm.ratio * size // total)]
    random.Random(block_seed(study.randomization.seed, study.id, stratum, index)).shuffle(arms)
    return arms


def place(study: Study, stratum: str, position: int) -> tuple[str, int, int]:
    """(arm, block index, position in block) of the stratum's `position`-th enrolment (0-based)."""
    index, offset = divmod(position, study.randomization.block_size)
    return block(study, stratum, index)[offset], index, offset


def stratum_of(study: Study, patient: Patient) -> str:
    """ "locale=en|country=MX" for the design's strata ("" without strata)."""
    return "|".join(f"{name}={getattr(patient, name) or ''}" for name in study.randomization.strata)


def participant_id(study: Study, patient_id: str) -> str:
    key = f"{study.id}:{study.randomization.seed}".encode()
    return hmac.new(key, patient_id.encode(), hashlib.sha256).hexdigest()[:24]


async def _take_place(session: AsyncSession, study_id: str, stratum: str) -> int:
    """The stratum's next place, counted under its row lock."""
    query = select(StudyStratum).where(
        StudyStratum.study_id == study_id, StudyStratum.stratum == stratum
    )
    if repo.is_postgres(session):
        await session.execute(
            pg_insert(StudyStratum)
            .values(study_id=study_id, stratum=stratum, allocated=0)
            .on_conflict_do_nothing()
        )
        query = query.with_for_update()
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:  # SQLite: BEGIN IMMEDIATE already serializes writers
        row = StudyStratum(study_id=study_id, stratum=stratum, allocated=0)
        session.add(row)
    position = row.allocated
    row.allocated = position + 1
    return position


async def enrol(
    session: AsyncSession, study: Study, patient: Patient, now: datetime
) -> StudyEnrolment:
    """Allocate a newly created patient (in the caller's transaction) and apply the arm's
    settings; an existing enrolment is returned unchanged (an arm never changes)."""
    existing = await session.get(StudyEnrolment, patient.id)
    if existing is not None:
        return existing
    stratum = stratum_of(study, patient)
    position = await _take_place(session, study.id, stratum)
    arm_id, block_index, block_position = place(study, stratum, position)
    enrolment = StudyEnrolment(
        patient_id=patient.id,
        study_id=study.id,
        participant_id=participant_id(study, patient.id),
        arm=arm_id,
        stratum=stratum,
        block_index=block_index,
        block_position=block_position,
        enrolled_at=now,
        withdrawn_at=None,
    )
    session.add(enrolment)
    arm = study.arm(arm_id)
    assert arm is not None
    if arm.program is not None and patient.program is None:
        from bot.facts import set_facts

        patient.program = arm.program
        await set_facts(session, patient.id, {"program": arm.program}, now)
    data = {"study_id": study.id, "arm": arm_id, "stratum": stratum, "block": block_index}
    await repo.log(session, now, "study_enrolled", patient.id, data)
    await session.flush()
    return enrolment


async def arm_of(session: AsyncSession, study: Study, patient_id: str) -> str | None:
    enrolment = await session.get(StudyEnrolment, patient_id)
    if enrolment is None or enrolment.study_id != study.id:
        return None
    return enrolment.arm


async def study_arm(session: AsyncSession, patient_id: str) -> str | None:
    """The patient's arm in the deployment's study (None: never allocated)."""
    enrolment = await session.get(StudyEnrolment, patient_id)
    return None if enrolment is None else enrolment.arm
