"""Database faults: 503 with Retry-After (never a 500) while the database cannot serve, and
/readyz 503 when the database can be read but not written."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.app import create_app
from bot.service import Tandem
from bot.settings import Settings
from storage.db import Database
from tests.conftest import BACKEND


async def _client(settings: Settings) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    service = Tandem(settings)
    try:
        async with TestClient(TestServer(create_app(service))) as client:
            yield client
    finally:
        await service.close()


async def test_unreachable_database_is_503_with_retry_after() -> None:
    down = Settings(database_url="postgresql+asyncpg://postgres@127.0.0.1:1/none", try_channel="on")
    async for client in _client(down):
        resp = await client.post("/try/api/messages", json={"text": "hi"})
        assert resp.status == 503, await resp.text()
        assert resp.headers["Retry-After"].isdigit()
        assert (await resp.json())["status"] == 503
        headers = {"Authorization": "Bearer tdm_x"}
        resp = await client.get("/api/v1/escalations", headers=headers)
        assert resp.status == 503 and "Retry-After" in resp.headers
        resp = await client.get("/console/", headers={"Cookie": "tandem_console=abc"})
        assert resp.status == 503 and "Retry-After" in resp.headers
        assert (await client.get("/readyz")).status == 503


async def test_readyz_is_503_when_the_database_cannot_be_written(db_url: str) -> None:
    if BACKEND == "postgres":
        name = make_url(db_url).database
        admin = Database(db_url)
        async with admin.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(
                text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
            )
        await admin.close()
        url = db_url
    else:
        path = make_url(db_url).database
        url = f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true"
    try:
        async for client in _client(Settings(database_url=url, try_channel="on")):
            resp = await client.get("/readyz")
            assert resp.status == 503, await resp.text()
            assert "cannot be written" in (await resp.json())["error"]
    finally:
        if BACKEND == "postgres":
            admin = Database(db_url)
            async with admin.engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("SET default_transaction_read_only = off"))
                await conn.execute(
                    text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off')
                )
            await admin.close()
