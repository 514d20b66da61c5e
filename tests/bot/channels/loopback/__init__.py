"""A third channel, added the way a contributor adds one: this folder plus one line in
bot/channels/registry.py (here the test adds the line). It speaks a tiny JSON webhook:

    POST /webhooks/loopback          {"id": "m1", "from": "alice", "text": "hello"}
    POST /webhooks/loopback/status   {"id": "lb-3", "status": "delivered"}

and "sends" by keeping the message, as a provider's inbox would. Like every adapter it imports
only bot.channels: no storage, no flows, no service.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from bot.channels.base import Inbound, InboundMessage, OutboundMessage, SendResult, StatusUpdate

NAME = "loopback"
PATH = "/webhooks/loopback"


def build(settings: Any) -> LoopbackChannel | None:
    return LoopbackChannel()


class LoopbackChannel:
    name = NAME

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []
        self.started: list[bool] = []

    def routes(self, inbound: Inbound) -> Sequence[web.RouteDef]:
        async def incoming(request: web.Request) -> web.Response:
            data = await _json(request, "id", "from", "text")
            message = InboundMessage(NAME, data["from"], data["text"], data["id"], inbound.now())
            stored = await inbound.message(message)
            return web.json_response({"stored": stored})

        async def status(request: web.Request) -> web.Response:
            data = await _json(request, "id", "status")
            await inbound.status(StatusUpdate(NAME, data["id"], data["status"]))
            return web.json_response({"ok": True})

        return [web.post(PATH, incoming), web.post(PATH + "/status", status)]

    async def start(self, inbound: Inbound, *, background: bool) -> None:
        self.started.append(background)

    async def send(self, message: OutboundMessage) -> SendResult:
        self.sent.append(message)
        return SendResult(provider_message_id=f"lb-{message.outbox_id}")

    async def close(self) -> None:
        pass


async def _json(request: web.Request, *fields: str) -> dict[str, str]:
    try:
        data = json.loads(await request.read())
    except ValueError as exc:
        raise web.HTTPBadRequest(text="not JSON") from exc
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="expected a JSON object")
    missing = [f for f in fields if not isinstance(data.get(f), str) or not data[f]]
    if missing:
        raise web.HTTPBadRequest(text=f"missing or empty: {', '.join(missing)}")
    return {f: data[f] for f in fields}
