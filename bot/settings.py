"""Tandem's configuration: environment variables prefixed `TANDEM_` (see README's table)."""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from pathlib import Path
from typing import Literal

import phonenumbers
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/tandem.db"
# Minutes to acknowledge an escalation, by reason; urgent ones never get longer than "risk".
DEFAULT_SLA_MINUTES = {
    "risk": 15,
    "human_request": 240,
    "worsening": 1440,
    "disengaged": 2880,
    "undeliverable": 1440,
}
# Shown to coaches on escalations marked safeguarding (a disclosure of abuse of a minor).
DEFAULT_SAFEGUARDING_GUIDANCE = (
    "Safeguarding concern: a child may be at risk of abuse. Follow your local child-protection "
    "reporting procedure now and tell your supervisor today. If the child is in immediate "
    "danger, call the emergency services. Record what the patient said and what you did."
)
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TANDEM_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    public_url: str = "http://127.0.0.1:8080"
    host: str = "127.0.0.1"
    port: int = 8080
    default_timezone: str = "UTC"
    default_locale: Literal["en", "es"] = "en"
    # The try-it channel (web chat at /try) is on unless provider credentials are set.
    try_channel: Literal["on", "off", "auto"] = "auto"
    # Try-it limits (0 = none): new conversations per client address in 10 minutes, messages per
    # conversation per minute.
    try_sessions_per_client: int = Field(default=5, ge=0)
    try_messages_per_minute: int = Field(default=20, ge=0)
    max_request_bytes: int = 64 * 1024
    program_name: str = "Tandem"
    support_contact: str = "your care team"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Coaching and safety (README "Coaches and safety").
    crisis_resources_file: Path | None = None
    # Country whose crisis lines a patient gets when they state none and have no phone number.
    default_country: str = "US"
    sla_minutes: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_SLA_MINUTES))
    takeover_remind_minutes: int = 60
    session_idle_minutes: int = 15
    # Texted (SMS, through the outbox) about urgent escalations no available coach could take.
    oncall_phone: str = ""
    safeguarding_guidance: str = DEFAULT_SAFEGUARDING_GUIDANCE
    # Scheduling: no scheduled non-urgent message from QUIET_HOURS_START to QUIET_HOURS_END
    # patient-local; fires missed while down go out within the grace window, else are skipped.
    quiet_hours_start: str = "21:00"
    quiet_hours_end: str = "08:00"
    schedule_grace_hours: float = Field(default=2.0, ge=0)
    # Measurement-based care: PHQ-9 and GAD-7 every this many days (0 = off).
    measure_every_days: int = Field(default=14, ge=0, le=365)
    scheduler_interval_seconds: float = Field(default=5.0, gt=0)
    schedule_batch_size: int = Field(default=50, ge=1, le=1000)
    # Check-ins in a row with no reply before a re-engagement text, then a coach escalation.
    reengage_after_missed: int = Field(default=3, ge=1)
    escalate_after_missed: int = Field(default=4, ge=1)
    # Channels (README: "SMS (Twilio)", "Telegram"); a channel is on when its credentials are set.
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from_number: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_api_url: str = "https://api.twilio.com"
    twilio_rate: float = 1.0  # messages/s per sender: 1 for a long code; more for short codes
    twilio_opt_out_replies: Literal["twilio", "tandem"] = "twilio"  # who confirms STOP/HELP
    telegram_bot_token: str = ""
    telegram_webhook_secret: str = ""
    telegram_api_url: str = "https://api.telegram.org"
    telegram_mode: Literal["webhook", "polling"] = "webhook"
    telegram_rate: float = 30.0  # messages/s overall (Telegram's bot limit)
    telegram_chat_rate: float = 1.0  # messages/s per chat
    send_timeout: float = 10.0  # seconds for one provider call
    outbox_horizon_hours: float = 24.0  # after this a message that could not be sent is failed
    # A send in flight this long belongs to a process that died: it is sent again.
    outbox_lease_seconds: float = 120.0
    enrolment: Literal["open", "invite"] = "open"
    # Process model (docs/DEPLOY.md): "off" makes `tandem serve` a web process only (no
    # dispatcher, scheduler, sweeper or coaching tick), for deployments that run `tandem worker`.
    background: Literal["on", "off"] = "on"
    # Connections one process may hold (no overflow beyond it), and how long a request waits for
    # one before failing (never the driver's 30 s default).
    db_pool_size: int = Field(default=20, ge=1, le=500)
    db_pool_timeout: float = Field(default=10.0, gt=0, le=60)
    # Message bodies older than this many days are blanked daily (None: kept).
    retention_days: int | None = Field(default=None, ge=1)
    # GET /metrics needs `Authorization: Bearer <token>` when set.
    metrics_token: str = ""
    # Reverse proxies whose X-Forwarded-For is believed (comma-separated addresses or CIDRs).
    trusted_proxies: str = ""
    # Keys the pseudonymous participant ids of research exports (bot/research/ids.py).
    research_key: str = ""
    # A research study (README "Running a study"): arms, randomization, micro-randomized prompts.
    study_file: Path | None = None

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// "
                f"(got {value.split(':', 1)[0]!r})"
            )
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("quiet_hours_start", "quiet_hours_end")
    @classmethod
    def _wall_time(cls, value: str) -> str:
        hours, _, minutes = value.partition(":")
        if not (len(hours) == 2 and len(minutes) == 2 and hours.isdigit() and minutes.isdigit()):
            raise ValueError(f"must be HH:MM (got {value!r})")
        if int(hours) > 23 or int(minutes) > 59:
            raise ValueError(f"must be a time of day between 00:00 and 23:59 (got {value!r})")
        return value

    @field_validator("crisis_resources_file")
    @classmethod
    def _resources_file(cls, value: Path | None) -> Path | None:
        if value is not None:
            from flows.safety import load_resource_table

            load_resource_table(value)  # raises ValueError naming the file and the problem
        return value

    @field_validator("study_file")
    @classmethod
    def _study_file(cls, value: Path | None) -> Path | None:
        if value is not None:
            from bot.study.config import StudyFileError, load_study

            try:
                load_study(value)
            except StudyFileError as exc:
                first, *rest = str(exc).splitlines()
                more = f" (and {len(rest)} more: run `tandem study check`)" if rest else ""
                raise ValueError(first + more) from None
        return value

    @field_validator("default_country")
    @classmethod
    def _country(cls, value: str) -> str:
        from flows.safety.country import normalize_country

        code = normalize_country(value)
        if code is None:
            raise ValueError(f"must be an ISO 3166 alpha-2 country code such as US (got {value!r})")
        return code

    @field_validator("sla_minutes")
    @classmethod
    def _sla(cls, value: dict[str, int]) -> dict[str, int]:
        merged = {**DEFAULT_SLA_MINUTES, **value}
        if any(minutes < 1 for minutes in merged.values()):
            raise ValueError("every SLA must be at least 1 minute")
        return merged

    @field_validator("oncall_phone")
    @classmethod
    def _oncall_phone(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return ""
        if not _E164.match(value):
            raise ValueError("must be an E.164 phone number such as +14155550123")
        try:
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException as exc:
            raise ValueError("must be an E.164 phone number such as +14155550123") from exc
        if not phonenumbers.is_valid_number(number):
            raise ValueError(f"not a valid phone number: {value}")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    @field_validator("safeguarding_guidance")
    @classmethod
    def _guidance(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be empty (unset it for the default guidance)")
        if len(value) > 2000:
            raise ValueError("must be at most 2000 characters")
        return value

    @field_validator("takeover_remind_minutes", "session_idle_minutes")
    @classmethod
    def _at_least_one(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1")
        return value

    @field_validator("port")
    @classmethod
    def _port_range(cls, value: int) -> int:
        if not 0 < value < 65536:
            raise ValueError("must be between 1 and 65535")
        return value

    @field_validator("public_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("twilio_api_url", "telegram_api_url")
    @classmethod
    def _api_root(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("twilio_rate", "telegram_rate", "telegram_chat_rate")
    @classmethod
    def _rate(cls, value: float) -> float:
        if value < 0:
            raise ValueError("must be 0 (no throttle) or a positive rate in messages/s")
        return value

    @field_validator("send_timeout", "outbox_horizon_hours", "outbox_lease_seconds")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be positive")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError as exc:
                raise ValueError(f"not an IP address or CIDR: {part!r}") from exc
        return value

    @model_validator(mode="after")
    def _twilio_complete(self) -> Settings:
        """Some Twilio settings but not all: refuse to start rather than silently run without
        SMS (and, under TRY_CHANNEL=auto, with the open try-it channel instead)."""
        given = {
            "TANDEM_TWILIO_ACCOUNT_SID": self.twilio_account_sid,
            "TANDEM_TWILIO_AUTH_TOKEN": self.twilio_auth_token,
            "TANDEM_TWILIO_FROM_NUMBER": self.twilio_from_number
            or self.twilio_messaging_service_sid,
        }
        missing = [name for name, value in given.items() if not value]
        if missing and len(missing) < len(given):
            if missing[-1] == "TANDEM_TWILIO_FROM_NUMBER":
                missing[-1] = "TANDEM_TWILIO_FROM_NUMBER (or TANDEM_TWILIO_MESSAGING_SERVICE_SID)"
            raise ValueError(f"{missing[0]} is missing: the SMS channel needs all its settings")
        return self

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        parts = filter(None, (p.strip() for p in self.trusted_proxies.split(",")))
        return tuple(ipaddress.ip_network(part, strict=False) for part in parts)

    @property
    def twilio_enabled(self) -> bool:
        return bool(
            self.twilio_account_sid
            and self.twilio_auth_token
            and (self.twilio_from_number or self.twilio_messaging_service_sid)
        )

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)

    @property
    def has_provider_credentials(self) -> bool:
        return self.twilio_enabled or self.telegram_enabled

    @property
    def try_channel_enabled(self) -> bool:
        if self.try_channel == "auto":
            return not self.has_provider_credentials
        return self.try_channel == "on"


class SettingsError(Exception):
    """Start-up configuration is invalid; the message names the variable."""


def load_settings() -> Settings:
    """Read settings from the environment, turning validation errors into one clear line."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        # pydantic prefixes a validator's own message with "Value error, ": noise to an operator.
        message = str(first["msg"]).removeprefix("Value error, ")
        if not first["loc"]:  # a rule across settings: its message names the variables
            raise SettingsError(message) from exc
        field = str(first["loc"][0])
        raise SettingsError(f"TANDEM_{field.upper()}: {message}") from exc
