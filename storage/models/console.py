"""Coach console tables: reusable message templates (per locale)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.models.core import BigId


class MessageTemplate(Base):
    """A coach's reusable reply, in one locale."""

    __tablename__ = "message_templates"
    __table_args__ = (Index("ix_message_templates_locale_title", "locale", "title"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    locale: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(ForeignKey("coaches.id"))
    created_at: Mapped[datetime]
