"""Content tables: what a patient's program remembers across runs (program choice, BA inventory).

One row per patient and fact name, JSON value; flows read them as `patient.<name>`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, JSONType


class PatientFact(Base):
    __tablename__ = "patient_facts"

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONType, nullable=True)
    updated_at: Mapped[datetime]
