"""Program facts: what a patient's flows remember across runs (`patient.program`, `patient.ba_*`).

Flows write them with `update_patient` fields named `program...`, `ba_...` or `anx_...`; the
pipeline reads them back before every engine step (one indexed query) through a fact provider.
`last_scores` ({"phq9": 12, ...}) is kept from the `measure_total` events as they are logged, and
`measure_history` (every completed measure's total and time, `bot.mbc`) next to it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.models import Patient, PatientFact

FACT_NAME = re.compile(r"^(program|ba_[a-z0-9_]+|anx_[a-z0-9_]+|last_scores|measure_history)$")


def is_fact(name: str) -> bool:
    return bool(FACT_NAME.match(name))


async def chosen_program(session: AsyncSession, patient: Patient) -> str | None:
    """The program the patient chose in the program flow (a fact), else the one set at
    enrolment (the API), else None."""
    fact = await session.get(PatientFact, (patient.id, "program"))
    chosen = fact.value if fact is not None else None
    return chosen if isinstance(chosen, str) and chosen else patient.program


async def load_facts(session: AsyncSession, patient_id: str) -> dict[str, Any]:
    preloaded = repo.preloaded_facts(session, patient_id)
    if preloaded is not None:
        return {"program": None, "last_scores": {}, **copy.deepcopy(preloaded)}
    rows = await session.execute(
        select(PatientFact.name, PatientFact.value).where(PatientFact.patient_id == patient_id)
    )
    facts: dict[str, Any] = {"program": None, "last_scores": {}}
    facts.update({name: value for name, value in rows.all()})
    return facts


async def program_fact(session: AsyncSession, patient_id: str) -> str | None:
    """Only the `program` fact (the menu's question on every message: no copy of the rest)."""
    preloaded = repo.preloaded_facts(session, patient_id)
    if preloaded is not None:
        found = preloaded.get("program")
    else:
        found = await session.scalar(
            select(PatientFact.value).where(
                PatientFact.patient_id == patient_id, PatientFact.name == "program"
            )
        )
    return found if isinstance(found, str) else None


async def set_facts(
    session: AsyncSession, patient_id: str, values: Mapping[str, Any], now: datetime
) -> None:
    """Write facts (the caller holds the patient's lock, so read-then-write cannot race)."""
    for name, value in values.items():
        if not is_fact(name):
            raise ValueError(f"{name!r} is not a program fact name")
        row = await session.get(PatientFact, (patient_id, name))
        if row is None:
            session.add(PatientFact(patient_id=patient_id, name=name, value=value, updated_at=now))
        else:
            row.value, row.updated_at = value, now
    preloaded = repo.preloaded_facts(session, patient_id)
    if preloaded is not None:
        preloaded.update(copy.deepcopy(dict(values)))
    await session.flush()
