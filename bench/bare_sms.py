"""The burst benchmark's baseline: the least an SMS bot can do per inbound message.

Check Twilio's signature, one INSERT, acknowledge, then send one reply through the REST API.

    python bench/bare_sms.py DATABASE_URL PORT PUBLIC_URL TWILIO_API_URL
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import Column, Integer, MetaData, String, Table, Text
from twilio.request_validator import RequestValidator

from storage.db import Database
from tests.fakes import twilio as tw

metadata = MetaData()
received = Table(
    "bench_sms",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sid", String(64), unique=True),
    Column("sender", String(32)),
    Column("body", Text),
)


def main() -> None:
    url, port, public_url, api_url = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    db = Database(url)
    validator = RequestValidator(tw.AUTH_TOKEN)
    replies: set[asyncio.Task[Any]] = set()
    state: dict[str, aiohttp.ClientSession] = {}
    endpoint = f"{api_url}/2010-04-01/Accounts/{tw.ACCOUNT_SID}/Messages.json"

    async def startup(app: web.Application) -> None:
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        auth = aiohttp.BasicAuth(tw.ACCOUNT_SID, tw.AUTH_TOKEN)
        state["http"] = aiohttp.ClientSession(auth=auth)

    async def cleanup(app: web.Application) -> None:
        await asyncio.gather(*replies, return_exceptions=True)
        await state["http"].close()
        await db.close()

    async def ready(request: web.Request) -> web.Response:
        return web.json_response({"status": "ready"})

    async def reply(to: str) -> None:
        form = {"To": to, "From": "+15005550006", "Body": "Thanks, got it."}
        async with state["http"].post(endpoint, data=form) as resp:
            await resp.read()

    async def sms(request: web.Request) -> web.Response:
        form = dict(await request.post())
        params = {k: str(v) for k, v in form.items()}
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(public_url + request.path, params, signature):
            return web.Response(status=403)
        async with db.engine.begin() as conn:
            await conn.execute(
                received.insert().values(
                    sid=params["MessageSid"], sender=params["From"], body=params["Body"]
                )
            )
        task = asyncio.create_task(reply(params["From"]))
        replies.add(task)
        task.add_done_callback(replies.discard)
        return web.Response(text="<Response/>", content_type="text/xml")

    app = web.Application()
    app.on_startup.append(startup)
    app.on_cleanup.append(cleanup)
    app.router.add_get("/readyz", ready)
    app.router.add_post("/webhooks/twilio/sms", sms)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
