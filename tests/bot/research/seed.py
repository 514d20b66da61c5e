"""A small study written straight into the tables export and the dashboard read: two arms,
decisions (available and not), PHQ-9 and GAD-7 administrations, messages with identifiable
bodies, channel identities with phone numbers and Telegram ids, coach messages, check-ins and
exercises. The identifiers are collected in SECRETS so tests can scan every output byte."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.research.ids import participant_id
from storage.db import Database
from storage.models import (
    ChannelIdentity,
    Coach,
    Escalation,
    Event,
    Message,
    Patient,
    StudyDecision,
    StudyEnrolment,
)

STUDY = "ba-sms-pilot"
KEY = "test-deployment-key"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PHQ9_SCORES = (2, 1, 1, 2, 1, 1, 0, 1, 1)  # item 9 answered 1: flagged
GAD7_SCORES = (1, 1, 2, 1, 0, 1, 1)


@dataclass
class Seeded:
    enrolled: list[str] = field(default_factory=list)  # patient ids in the study
    outside: list[str] = field(default_factory=list)  # in care, not in the study
    excluded: list[str] = field(default_factory=list)  # erased or declined consent
    secrets: list[str] = field(default_factory=list)  # never allowed in a de-identified export
    coach_id: str = ""


def _band(total: int) -> str:
    return "minimal" if total < 5 else "mild" if total < 10 else "moderate"


def _measure(session: Any, pid: str, at: datetime, measure: str, scores: tuple[int, ...]) -> None:
    for number, value in enumerate(scores, start=1):
        data: dict[str, Any] = {"measure": measure, "item": number, "value": value}
        if measure == "phq9" and number == 9:
            # The raw reply of an interpreted item 9 is in the event log: it must never leak.
            data.update(interpreted=True, raw="maybe a bit, Quackenbush secret reply")
        session.add(
            Event(at=at + timedelta(minutes=number), patient_id=pid, kind="measure", data=data)
        )
    total = sum(scores)
    session.add(
        Event(
            at=at + timedelta(minutes=len(scores) + 1),
            patient_id=pid,
            kind="measure_total",
            data={"measure": measure, "total": total, "band": _band(total)},
        )
    )


def _message(
    session: Any, pid: str, at: datetime, direction: str, body: str, payload: str | None = None
) -> None:
    status = "processed" if direction == "in" else "sent"
    session.add(
        Message(
            patient_id=pid,
            direction=direction,
            channel="sms",
            body=body,
            payload=payload,
            status=status,
            created_at=at,
            updated_at=at,
        )
    )


async def seed(db: Database, patients: int = 8, weeks: int = 4, start: datetime = START) -> Seeded:
    """`patients` enrolled (alternating arms), two outside the study, two excluded."""
    out = Seeded()
    async with db.session() as session, session.begin():
        coach = Coach(
            id=str(uuid.uuid4()),
            email="coach@example.org",
            name="Coach Hortensia",
            role="coach",
            active=True,
            available=True,
            created_at=start,
        )
        session.add(coach)
        out.coach_id = coach.id
        out.secrets += [coach.name, coach.email]
        await session.flush()
        for index in range(patients + 4):
            pid = str(uuid.uuid4())
            phone = f"+1415555{index:04d}"
            telegram = f"77{index:07d}"
            name = f"Zebulon{index} Quackenbush"
            kind = "enrolled" if index < patients else "outside" if index < patients + 2 else "x"
            created = start + timedelta(hours=index)
            patient = Patient(
                id=pid,
                created_at=created,
                locale="en" if index % 3 else "es",
                timezone="America/New_York" if index % 2 else "Europe/Madrid",
                status="active",
                display_name=name,
                consent_given=True,
                program="ba",
            )
            if kind == "x":
                if index % 2:
                    patient.status = "erased"
                else:
                    patient.consent_given = False
            session.add(patient)
            await session.flush()
            session.add(
                ChannelIdentity(patient_id=pid, channel="sms", address=phone, created_at=created)
            )
            session.add(
                ChannelIdentity(
                    patient_id=pid, channel="telegram", address=telegram, created_at=created
                )
            )
            out.secrets += [phone, phone[1:], telegram, name, pid]
            getattr(
                out, {"enrolled": "enrolled", "outside": "outside", "x": "excluded"}[kind]
            ).append(pid)
            arm = ("control", "coached")[index % 2]
            if kind == "enrolled":
                session.add(
                    StudyEnrolment(
                        patient_id=pid,
                        study_id=STUDY,
                        participant_id=participant_id(STUDY, pid, KEY),
                        arm=arm,
                        stratum="en" if index % 3 else "es",
                        block_index=index // 4,
                        block_position=index % 4,
                        enrolled_at=created,
                        withdrawn_at=created + timedelta(days=10) if index == 3 else None,
                    )
                )
            for week in range(weeks):
                when = created + timedelta(weeks=week, hours=1)
                phq = tuple(
                    min(3, max(0, s - week // 2 + index % 2 + (n == index % 9)))
                    for n, s in enumerate(PHQ9_SCORES)
                )
                _measure(session, pid, when, "phq9", phq)
                _measure(session, pid, when + timedelta(hours=1), "gad7", GAD7_SCORES)
            for day in range(weeks * 7):
                at = created + timedelta(days=day, hours=2)
                body = f"secret body {index}-{day} from Zebulon{index}"
                out.secrets.append(body)
                if (day + index) % 3:
                    _message(session, pid, at, "in", body)
                _message(session, pid, at + timedelta(minutes=1), "out", f"bot {body}")
                if day % 5 == 0:
                    _message(session, pid, at, "out", f"coach {body}", payload=f"coach:{coach.id}")
                for flow_id, outcome in _runs(day):
                    session.add(
                        Event(
                            at=at,
                            patient_id=pid,
                            kind="flow_ended",
                            flow_id=flow_id,
                            data={"outcome": outcome},
                        )
                    )
                if kind == "enrolled":
                    _decision(session, pid, index, day, at)
            session.add(
                Escalation(
                    patient_id=pid,
                    reason="risk",
                    priority="urgent",
                    detail="",
                    status="resolved",
                    created_at=created + timedelta(days=1),
                    due_at=created + timedelta(days=1, minutes=15),
                    acknowledged_at=created + timedelta(days=1, minutes=5 + 20 * (index % 2)),
                )
            )
    return out


def _runs(day: int) -> list[tuple[str, str]]:
    """Flow runs ended on a day: 14 completed check-ins and 7 exercises in four weeks; a
    skipped check-in and an activity reminder count as neither."""
    runs = []
    if day % 2 == 0:
        runs.append(("checkin", "completed"))
    if day % 4 == 1:
        runs.append(("anx_breathing", "completed"))
    if day % 4 == 2:
        runs.append(("ba_reminder", "completed"))
    if day % 4 == 3:
        runs += [("checkin", "skipped"), ("anx_grounding", "skipped")]
    return runs


def _decision(session: Any, pid: str, index: int, day: int, at: datetime) -> None:
    available = (day + index) % 4 != 0
    action = ("none", "checkin_prompt")[(day * 7 + index) % 2] if available else None
    reasons = [] if available else ["quiet_hours", "paused"] if day % 8 == 0 else ["crisis"]
    stamp = at.replace(tzinfo=None).isoformat(timespec="seconds")
    session.add(
        StudyDecision(
            study_id=STUDY,
            patient_id=pid,
            participant_id=participant_id(STUDY, pid, KEY),
            decision_point="evening_prompt",
            decision_index=day,
            status="decided",
            timezone="America/New_York",
            scheduled_utc=at,
            scheduled_local=stamp,
            decided_utc=at,
            decided_local=stamp,
            available=available,
            unavailable_reasons=reasons,
            probabilities={"none": 0.5, "checkin_prompt": 0.5} if available else {},
            action=action,
            probability=0.5 if available else None,
            seed=f"20261201:{index}:{day}" if available else None,
            policy_version="fixed-1" if available else None,
            proximal_due_at=at + timedelta(hours=3),
            proximal_outcome=float((day + index) % 2) if available else None,
            proximal_outcome_at=at + timedelta(hours=3) if available else None,
            created_at=at,
            updated_at=at,
        )
    )
