"""A fake Telegram Bot API server.

Point python-telegram-bot at it with `Bot(token, base_url=f"{fake.url}/bot")`: PTB appends the
token to `base_url` (unless it contains "{token}") and then "/<method>".
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from tests.fakes._server import FakeServer, Outcome

TOKEN = "123456789:AAFakeTokenForTandemTests_0123456789"
BOT_ID = 123456789

# PTB sends form fields; non-string values arrive JSON-encoded, strings as they are, so the
# type of each field has to come from the Bot API schema.
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "allowed_updates",
        "commands",
        "scope",
        "link_preview_options",
        "reply_parameters",
    }
)
_INT_FIELDS = frozenset({"message_id", "offset", "limit", "timeout", "max_connections"})
_BOOL_FIELDS = frozenset(
    {"show_alert", "drop_pending_updates", "disable_notification", "protect_content"}
)


Result = web.Response | tuple[Any, str]  # an error response, or (result, description)
Handler = Callable[[dict[str, Any]], Awaitable[Result]]


def _error(code: int, description: str, **parameters: int) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


def too_many_requests(retry_after: int = 3, method: str | None = "sendMessage") -> Outcome:
    body = _error(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)
    return Outcome(status=429, body=body, target=method)


def blocked_by_user(method: str | None = "sendMessage") -> Outcome:
    return Outcome(
        status=403, body=_error(403, "Forbidden: bot was blocked by the user"), target=method
    )


def chat_not_found(method: str | None = "sendMessage") -> Outcome:
    return Outcome(status=400, body=_error(400, "Bad Request: chat not found"), target=method)


def server_error(method: str | None = "sendMessage") -> Outcome:
    return Outcome(status=500, body=_error(500, "Internal Server Error"), target=method)


def slow(seconds: float, method: str | None = "sendMessage") -> Outcome:
    """Answer normally after `seconds` (the message is sent even if the client gave up)."""
    return Outcome(delay=seconds, target=method)


def _decode(data: dict[str, Any]) -> dict[str, Any]:
    decoded: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(value, str):
            decoded[key] = value
        elif key in _JSON_FIELDS:
            decoded[key] = json.loads(value)
        elif key in _INT_FIELDS or (key == "chat_id" and value.lstrip("-").isdigit()):
            decoded[key] = int(value)
        elif key in _BOOL_FIELDS:
            decoded[key] = value.lower() == "true"
        else:
            decoded[key] = value
    return decoded


class FakeTelegram(FakeServer):
    """Serves GET|POST /bot{token}/{method} for the Bot API methods Tandem uses."""

    def __init__(self, token: str = TOKEN, max_poll_wait: float = 0.5) -> None:
        super().__init__()
        self.token = token
        # getUpdates long polling waits at most this long, whatever `timeout` the client asks.
        self.max_poll_wait = max_poll_wait
        self.bot_user: dict[str, Any] = {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Tandem Test",
            "username": "tandem_test_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.sent: list[dict[str, Any]] = []  # Message objects returned by sendMessage
        self.answered_callbacks: list[dict[str, Any]] = []
        self.commands: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] = {}
        self._messages: dict[tuple[int | str, int], dict[str, Any]] = {}
        self._updates: list[dict[str, Any]] = []
        self._new_update = asyncio.Event()
        self._next_message_id = 1
        route = "/bot{token}/{method}"
        self.app.router.add_route("GET", route, self._dispatch)
        self.app.router.add_route("POST", route, self._dispatch)

    def push_update(self, *updates: dict[str, Any]) -> None:
        """Queue updates for getUpdates (build them with `tests.fakes.telegram_updates`)."""
        self._updates.extend(updates)
        self._new_update.set()

    @property
    def calls(self) -> list[str]:
        """Bot API method names in request order."""
        return [r.match_info["method"] for r in self.requests]

    async def _dispatch(self, request: web.Request) -> web.Response:
        recorded = await self._record(request)
        if recorded.match_info["token"] != self.token:
            return web.json_response(_error(401, "Unauthorized"), status=401)
        method = recorded.match_info["method"]
        handler = self._handlers().get(method.lower())
        if handler is None:
            return web.json_response(_error(404, "Not Found"), status=404)
        outcome = self._take_outcome(method)
        if outcome is not None:
            await self._sleep(outcome.delay)
            if outcome.status is not None:
                return web.json_response(outcome.body, status=outcome.status)
        params = _decode({**recorded.query, **recorded.data})
        result = await handler(params)
        if isinstance(result, web.Response):
            return result
        body: dict[str, Any] = {"ok": True, "result": result[0]}
        if result[1]:
            body["description"] = result[1]
        return web.json_response(body)

    def _handlers(self) -> dict[str, Handler]:
        return {
            "getme": self._get_me,
            "sendmessage": self._send_message,
            "editmessagereplymarkup": self._edit_reply_markup,
            "answercallbackquery": self._answer_callback,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "getupdates": self._get_updates,
            "setmycommands": self._set_commands,
            "getmycommands": self._get_commands,
        }

    async def _get_me(self, params: dict[str, Any]) -> Result:
        return self.bot_user, ""

    async def _send_message(self, params: dict[str, Any]) -> Result:
        text = str(params.get("text", ""))
        if "chat_id" not in params:
            return _bad_request("Bad Request: chat_id is empty")
        if not text.strip():
            return _bad_request("Bad Request: message text is empty")
        # Telegram counts UTF-16 code units.
        if len(text.encode("utf-16-le")) // 2 > 4096:
            return _bad_request("Bad Request: message is too long")
        chat_id = params["chat_id"]
        message: dict[str, Any] = {
            "message_id": self._next_message_id,
            "from": {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")},
            "chat": _chat(chat_id),
            "date": int(time.time()),
            "text": text,
        }
        self._next_message_id += 1
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup  # only inline keyboards are echoed back
        self._messages[(chat_id, message["message_id"])] = message
        self.sent.append(message)
        return message, ""

    async def _edit_reply_markup(self, params: dict[str, Any]) -> Result:
        message = self._messages.get((params.get("chat_id", ""), params.get("message_id", 0)))
        if message is None:
            return _bad_request("Bad Request: message to edit not found")
        markup = params.get("reply_markup")
        if not markup or not markup.get("inline_keyboard"):
            markup = None
        if markup == message.get("reply_markup"):
            return _bad_request(
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message"
            )
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return message, ""

    async def _answer_callback(self, params: dict[str, Any]) -> Result:
        self.answered_callbacks.append(params)
        return True, ""

    async def _set_webhook(self, params: dict[str, Any]) -> Result:
        self.webhook = params
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True, "Webhook was set"

    async def _delete_webhook(self, params: dict[str, Any]) -> Result:
        had = bool(self.webhook)
        self.webhook = {}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True, "Webhook was deleted" if had else "Webhook is already deleted"

    async def _get_webhook_info(self, params: dict[str, Any]) -> Result:
        info: dict[str, Any] = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if "allowed_updates" in self.webhook:
            info["allowed_updates"] = self.webhook["allowed_updates"]
        if "max_connections" in self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
        return info, ""

    async def _get_updates(self, params: dict[str, Any]) -> Result:
        if self.webhook.get("url"):
            return web.json_response(
                _error(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                ),
                status=409,
            )
        offset = int(params.get("offset", 0))
        if offset:
            # As Telegram does: an offset confirms (and forgets) every earlier update.
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        wait = min(float(params.get("timeout", 0)), self.max_poll_wait)
        if not self._updates and wait > 0:
            self._new_update.clear()
            await self._sleep_until_update(wait)
        limit = int(params.get("limit", 100)) or 100
        return self._updates[:limit], ""

    async def _sleep_until_update(self, seconds: float) -> None:
        waiter = asyncio.ensure_future(self._new_update.wait())
        closer = asyncio.ensure_future(self._closing.wait())
        try:
            await asyncio.wait(
                {waiter, closer}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            waiter.cancel()
            closer.cancel()

    async def _set_commands(self, params: dict[str, Any]) -> Result:
        self.commands = list(params.get("commands", []))
        return True, ""

    async def _get_commands(self, params: dict[str, Any]) -> Result:
        return self.commands, ""


def _bad_request(description: str) -> web.Response:
    return web.json_response(_error(400, description), status=400)


def _chat(chat_id: int | str) -> dict[str, Any]:
    if isinstance(chat_id, str):  # "@channelusername"
        return {
            "id": -1001234567890,
            "title": chat_id.lstrip("@"),
            "type": "channel",
            "username": chat_id.lstrip("@"),
        }
    if chat_id < 0:
        return {"id": chat_id, "title": "Tandem group", "type": "supergroup"}
    return {"id": chat_id, "first_name": "Patient", "type": "private"}
