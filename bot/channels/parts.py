"""A send result that names every provider message a long text went out as."""

from __future__ import annotations

from dataclasses import dataclass

from bot.channels.base import SendResult


@dataclass(frozen=True)
class PartsResult(SendResult):
    # Provider ids of every part, in order; `provider_message_id` is the first one.
    part_ids: tuple[str, ...] = ()
