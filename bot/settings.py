"""Tandem's configuration: environment variables prefixed `TANDEM_` (see README's table)."""

from __future__ import annotations

import zoneinfo
from typing import Literal

from pydantic import ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/tandem.db"


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
    max_request_bytes: int = 64 * 1024
    program_name: str = "Tandem"
    support_contact: str = "your care team"
    log_level: Literal["debug", "info", "warning", "error"] = "info"

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

    @property
    def has_provider_credentials(self) -> bool:
        # Later channels add their own credential checks here.
        return False

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
        field = str(first["loc"][0]) if first["loc"] else "?"
        raise SettingsError(f"TANDEM_{field.upper()}: {first['msg']}") from exc
