"""The safety layer's per-patient state, kept as JSON on the (locked) patient row.

Keys: `check` (the open safety check, bot/coaching/screener.py), `resources_at` (when help lines
last went out), `ack_at` (the last "held for your coach" acknowledgement), `menu_at` (when the
crisis menu was shown). Stored, not in memory, so another process carries on where one stopped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from storage.models import Patient


def load(patient: Patient) -> dict[str, Any]:
    return dict(patient.safety_state or {})


def save(patient: Patient, state: dict[str, Any]) -> None:
    # A new dict each time: SQLAlchemy only notices a JSON column change on assignment.
    patient.safety_state = dict(state)


def within(state: dict[str, Any], key: str, now: datetime, span: timedelta) -> bool:
    """Whether the instant stored under `key` is less than `span` before `now`."""
    at = state.get(key)
    if not isinstance(at, str):
        return False
    try:
        return now - datetime.fromisoformat(at) < span
    except ValueError:
        return False


def stamp(patient: Patient, key: str, now: datetime) -> None:
    state = load(patient)
    state[key] = now.isoformat()
    save(patient, state)
