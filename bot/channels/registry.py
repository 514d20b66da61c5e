"""Every channel Tandem knows, one line each: a module with `build(settings) -> Channel | None`
(None when the deployment has not configured it). Adding a channel is a module or folder beside
the others plus one line here; nothing else in Tandem names a provider."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from bot.channels.base import Channel

MODULES = [
    "bot.channels.trychat",  # the web chat at /try (TANDEM_TRY_CHANNEL)
    "bot.channels.twilio",  # SMS (TANDEM_TWILIO_*)
    "bot.channels.telegram",  # Telegram (TANDEM_TELEGRAM_*)
]


def build(settings: Any) -> dict[str, Channel]:
    """The configured channels by name, in registry order."""
    channels: dict[str, Channel] = {}
    for path in MODULES:
        channel = import_module(path).build(settings)
        if channel is not None:
            if channel.name in channels:
                raise ValueError(f"two channels are named {channel.name!r} ({path})")
            channels[channel.name] = channel
    return channels
