"""The benchmark's baseline: a bare aiohttp handler doing one INSERT per request."""

from __future__ import annotations

import sys

from aiohttp import web
from sqlalchemy import Column, Integer, MetaData, String, Table, Text

from storage.db import Database

metadata = MetaData()
received = Table(
    "bench_received",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session", String(64)),
    Column("body", Text),
)


def main() -> None:
    url, port = sys.argv[1], int(sys.argv[2])
    db = Database(url)

    async def startup(app: web.Application) -> None:
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def cleanup(app: web.Application) -> None:
        await db.close()

    async def ready(request: web.Request) -> web.Response:
        return web.json_response({"status": "ready"})

    async def post(request: web.Request) -> web.Response:
        body = await request.json()
        async with db.engine.begin() as conn:
            result = await conn.execute(
                received.insert().values(session=body["session"], body=body["text"])
            )
        assert result.inserted_primary_key is not None
        return web.json_response({"message_id": result.inserted_primary_key[0]}, status=202)

    app = web.Application()
    app.on_startup.append(startup)
    app.on_cleanup.append(cleanup)
    app.router.add_get("/readyz", ready)
    app.router.add_post("/try/api/messages", post)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
