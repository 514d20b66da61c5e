"""The REST API (`/api/v1`, bearer tokens) and its OpenAPI document."""

from bot.api.routes import setup

__all__ = ["setup"]
