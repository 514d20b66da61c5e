"""Request and response bodies of the REST API; the OpenAPI document is generated from these."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.scheduling.timecalc import default_timezone, validate_timezone
from flows.safety.country import normalize_country

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_TELEGRAM_ID = re.compile(r"^-?\d{1,20}$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        # PostgreSQL text cannot hold NUL; say so instead of failing at the database.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class Consent(Strict):
    obtained_at: datetime
    method: str = Field(min_length=1, max_length=32)
    by: str = Field(min_length=1, max_length=120)

    @field_validator("obtained_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must include a time zone offset, e.g. 2026-03-01T10:00:00Z")
        try:
            return value.astimezone(UTC)
        except OverflowError as exc:
            raise ValueError("out of range") from exc


class PatientCreate(Strict):
    channel: Literal["sms", "telegram"]
    address: str = Field(
        min_length=1, max_length=64, description="E.164 number or Telegram chat id"
    )
    timezone: str | None = Field(default=None, max_length=64, description="IANA time zone")
    locale: Literal["en", "es"] | None = None
    checkin_time: str | None = Field(default=None, description="HH:MM, patient-local")
    program: str | None = Field(default=None, min_length=1, max_length=64)
    consent: Consent | None = None
    country: str | None = Field(
        default=None,
        description="ISO 3166 alpha-2 country the patient is in; picks their crisis lines",
    )

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return country_code(value)

    @field_validator("checkin_time")
    @classmethod
    def _hhmm(cls, value: str | None) -> str | None:
        if value is not None and not _HHMM.match(value):
            raise ValueError("must be HH:MM (24-hour), e.g. 09:30")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        import zoneinfo

        if value is None:
            return None
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _address(self) -> PatientCreate:
        if self.channel == "telegram":
            if not _TELEGRAM_ID.match(self.address):
                raise ValueError("address: a Telegram chat id is a whole number")
            return self
        self.address = e164(self.address)
        return self

    def guessed_timezone(self, fallback: str) -> str:
        if self.timezone:
            return self.timezone
        if self.channel == "sms":
            return default_timezone(self.address, fallback)[0]
        return fallback


def country_code(value: str | None) -> str | None:
    if value is None:
        return None
    code = normalize_country(value)
    if code is None:
        raise ValueError(f"unknown country {value[:20]!r}: use an ISO 3166 alpha-2 code such as MX")
    return code


class PatientUpdate(Strict):
    """Fields a coach may change; a field left out is unchanged, country null clears it."""

    locale: Literal["en", "es"] | None = None
    country: str | None = Field(
        default=None,
        description="ISO 3166 alpha-2 country the patient is in (null: not stated)",
    )

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return country_code(value)

    @model_validator(mode="after")
    def _something(self) -> PatientUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one of locale, country")
        if "locale" in self.model_fields_set and self.locale is None:
            raise ValueError("locale: must be en or es")
        return self


def e164(address: str) -> str:
    try:
        number = phonenumbers.parse(address, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("address: must be an E.164 phone number such as +14155550123") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("address: not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class PatientCreated(BaseModel):
    id: str


class OutcomeOut(BaseModel):
    """Measurement-based care for one measure's current episode (docs/CONTENT.md)."""

    baseline: int
    baseline_at: datetime
    latest: int
    latest_at: datetime
    count: int
    change_pct: float | None  # drop from baseline in percent (negative: higher); None from 0
    response: bool  # 50% or more below a baseline of at least 5
    remission: bool  # latest below 5
    non_response: bool | None  # at the first measure 6+ weeks in; None: not decided yet


class PatientOut(BaseModel):
    id: str
    channel: str | None
    address: str | None
    status: str
    locale: str
    country: str | None  # stated by the patient or a coach; None: phone country or default
    timezone: str
    checkin_time: str | None
    program: str | None
    display_name: str | None
    consent_given: bool | None
    coach_id: str | None
    bot_paused: bool
    created_at: datetime
    outcomes: dict[str, OutcomeOut] = Field(default_factory=dict)  # "phq9", "gad7"
    arm: str | None = None  # the study arm (TANDEM_STUDY_FILE); None: not in the study


class MessageOut(BaseModel):
    id: int
    direction: Literal["in", "out"]
    sender: Literal["patient", "bot", "coach"]
    coach_id: str | None
    channel: str
    body: str
    status: str
    created_at: datetime


class MessageList(BaseModel):
    messages: list[MessageOut]


class EscalationOut(BaseModel):
    id: int
    patient_id: str
    reason: str
    priority: str
    status: str
    detail: str
    coach_id: str | None
    created_at: datetime
    due_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    outcome: str | None
    safeguarding: bool = Field(description="a disclosure of abuse of a minor")
    safeguarding_guidance: str | None = Field(
        default=None, description="the program's reporting guidance, when safeguarding"
    )
    alerted: Literal["coach", "oncall", "nobody"] = Field(
        description="who has been told: an available coach, only the on-call phone, or nobody"
    )
    screening: dict[str, Any] | None = Field(
        default=None,
        description="the safety check after a disclosure: outcome (in_danger, high, moderate, "
        "low, unanswered, interrupted) and each answer (step, yes, interpreted, at)",
    )


class EscalationList(BaseModel):
    escalations: list[EscalationOut]


class CoachMessage(Strict):
    text: str = Field(min_length=1, max_length=1600)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class NoteIn(Strict):
    text: str = Field(min_length=1, max_length=4000)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class NoteOut(BaseModel):
    id: int
    patient_id: str
    coach_id: str
    body: str
    created_at: datetime


class NoteList(BaseModel):
    notes: list[NoteOut] = Field(description="newest first")


class Release(Strict):
    resume: Literal["flow", "menu"] = "flow"
    outcome: str = Field(default="", max_length=4000)


class TakeoverOut(BaseModel):
    id: int
    patient_id: str
    coach_id: str
    started_at: datetime
    ended_at: datetime | None
    resume: str | None
    outcome: str | None


class CheckinTime(Strict):
    checkin_time: str = Field(description="HH:MM (24-hour), patient-local")

    @field_validator("checkin_time")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError("must be HH:MM (24-hour), e.g. 09:30")
        return value


class PauseRequest(Strict):
    days: int | None = Field(
        default=None, ge=1, le=90, description="1-90 days; null or absent: until resumed"
    )


class TimezoneChange(Strict):
    timezone: str = Field(min_length=1, max_length=64, description="IANA time zone")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            return validate_timezone(value)
        except ValueError as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc


class ScheduleOut(BaseModel):
    """The patient's schedule after a change."""

    patient_id: str
    status: str
    timezone: str
    timezone_confirmed: bool | None
    checkin_time: str | None
    paused_until: datetime | None
    next_checkin_at: datetime | None = Field(description="UTC; null when none is scheduled")


class Error(BaseModel):
    error: str
    status: int
