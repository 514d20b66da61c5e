"""Builders for realistic Telegram Update JSON, as Telegram POSTs to a webhook or getUpdates
returns. Shapes follow https://core.telegram.org/bots/api#update."""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Iterator
from typing import Any

from tests.fakes.telegram import BOT_ID


class UpdateFactory:
    """Hands out increasing update_id and message_id values, like one Telegram bot would see."""

    def __init__(self, first_update_id: int = 700_000_001) -> None:
        self._update_ids = itertools.count(first_update_id)
        self._message_ids: Iterator[int] = itertools.count(1)

    def user(self, user_id: int, first_name: str = "Ana") -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}

    def _private_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "from": self.user(chat_id),
            "chat": {"id": chat_id, "first_name": "Ana", "type": "private"},
            "date": int(time.time()),
            **content,
        }

    def _update(self, **body: Any) -> dict[str, Any]:
        return {"update_id": next(self._update_ids), **body}

    def text_message(self, chat_id: int, text: str) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [{"offset": 0, "length": len(command), "type": "bot_command"}]
        return self._update(message=self._private_message(chat_id, **content))

    def edited_message(self, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        message = self._private_message(chat_id, text=text, edit_date=int(time.time()))
        message["message_id"] = message_id
        message["date"] -= 60
        return self._update(edited_message=message)

    def callback_query(
        self,
        chat_id: int,
        data: str,
        message_id: int = 1,
        message_text: str = "How are you feeling?",
        buttons: list[tuple[str, str]] | None = None,
    ) -> dict[str, Any]:
        """A tap on an inline button under the bot's message `message_id`."""
        buttons = buttons or [(data, data)]
        bot_message = {
            "message_id": message_id,
            "from": {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Tandem Test",
                "username": "tandem_test_bot",
            },
            "chat": {"id": chat_id, "first_name": "Ana", "type": "private"},
            "date": int(time.time()) - 30,
            "text": message_text,
            "reply_markup": {
                "inline_keyboard": [
                    [{"text": label, "callback_data": value}] for label, value in buttons
                ]
            },
        }
        return self._update(
            callback_query={
                "id": str(secrets.randbits(63)),
                "from": self.user(chat_id),
                "message": bot_message,
                "chat_instance": str(-secrets.randbits(62)),
                "data": data,
            }
        )

    def sticker(self, chat_id: int, emoji: str = "👍") -> dict[str, Any]:
        sticker = {
            "file_id": "CAACAgIAAxkBAAIB" + secrets.token_hex(12),
            "file_unique_id": "AgAD" + secrets.token_hex(6),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": "TandemTestStickers",
            "file_size": 23_040,
        }
        return self._update(message=self._private_message(chat_id, sticker=sticker))

    def photo(self, chat_id: int, caption: str | None = None) -> dict[str, Any]:
        file_id = "AgACAgQAAxkBAAIC" + secrets.token_hex(12)
        sizes = [
            {
                "file_id": f"{file_id}{n}",
                "file_unique_id": f"AQAD{n}{secrets.token_hex(4)}",
                "file_size": size,
                "width": width,
                "height": height,
            }
            for n, (width, height, size) in enumerate(
                [(90, 67, 1_386), (320, 240, 19_218), (1280, 960, 140_602)]
            )
        ]
        content: dict[str, Any] = {"photo": sizes}
        if caption is not None:
            content["caption"] = caption
        return self._update(message=self._private_message(chat_id, **content))

    def channel_post(self, text: str, channel_id: int = -1001234567890) -> dict[str, Any]:
        chat = {"id": channel_id, "title": "Tandem announcements", "type": "channel"}
        post = {
            "message_id": next(self._message_ids),
            "sender_chat": chat,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        return self._update(channel_post=post)
