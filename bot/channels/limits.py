"""Provider message-size limits, in one place for channel adapters.

SMS limits (and the reasons behind them) are documented in `bot.channels.sms_text`.

Telegram: a text message is 1-4096 characters after entity parsing; Telegram counts in UTF-16
code units (the unit of its entity offsets), so split with `split_text(text, 4096, utf16=True)`
to stay under the limit when a message has many emoji.
https://core.telegram.org/bots/api#sendmessage
Inline button callback_data is 1-64 bytes (UTF-8), which bounds `Choice.value` on Telegram.
https://core.telegram.org/bots/api#inlinekeyboardbutton
"""

from __future__ import annotations

from bot.channels.sms_text import SMS_MAX_CHARS

TELEGRAM_MAX_CHARS = 4096
TELEGRAM_CALLBACK_DATA_MAX_BYTES = 64

__all__ = ["SMS_MAX_CHARS", "TELEGRAM_CALLBACK_DATA_MAX_BYTES", "TELEGRAM_MAX_CHARS"]
