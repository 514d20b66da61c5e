"""Migrations and models agree, on whichever database the suite runs against."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text

from storage import migrate
from storage.db import Database
from storage.models import Base


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_schema_matches_the_models(database: Database) -> None:
    async with database.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_schema_is_current_and_upgrade_is_idempotent(database: Database) -> None:
    assert await migrate.pending_heads(database) == set()
    await migrate.upgrade(database)
    assert await migrate.pending_heads(database) == set()


async def test_sqlite_pragmas(database: Database) -> None:
    if database.is_postgres:
        return
    async with database.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 30000
