"""Shared fixtures: a migrated, empty database per test on SQLite or PostgreSQL.

`TANDEM_TEST_DB=postgres` runs the database tests against PostgreSQL (TANDEM_TEST_POSTGRES_URL,
default the local server's `test` database); each pytest session works in a database of its own,
created next to it, so concurrent runs never see each other's rows.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.clock import FakeClock
from bot.service import Tandem
from bot.settings import Settings
from flows.library import FlowLibrary
from storage import migrate
from storage.db import Database
from storage.models import Base

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
BACKEND = os.environ.get("TANDEM_TEST_DB", "sqlite")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if {"db_url", "database", "tandem"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--regen-transcripts",
        action="store_true",
        help="rewrite tests/transcripts from what the flows now say (after a reviewed change)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "db: uses a database (run on SQLite and PostgreSQL)")


async def _admin(url: str, statement: str) -> None:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(statement))
    finally:
        await db.close()


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await migrate.upgrade(db)
    finally:
        await db.close()


@pytest.fixture(scope="session")
def migrated_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if BACKEND == "postgres":
        base = os.environ.get("TANDEM_TEST_POSTGRES_URL", DEFAULT_PG)
        name = f"tandem_t_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        asyncio.run(_admin(base, f'CREATE DATABASE "{name}"'))
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
        asyncio.run(_migrate(url))
        yield url
        asyncio.run(_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        template = tmp_path_factory.mktemp("db") / "template.db"
        url = f"sqlite+aiosqlite:///{template}"
        asyncio.run(_migrate(url))
        yield url


async def _truncate(url: str) -> None:
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await db.close()


@pytest.fixture
async def db_url(migrated_url: str, tmp_path: Path) -> str:
    """A migrated database with no rows, just for this test."""
    if BACKEND == "postgres":
        await _truncate(migrated_url)
        return migrated_url
    template = Path(make_url(migrated_url).database or "")
    target = tmp_path / "tandem.db"
    shutil.copyfile(template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    db = Database(db_url)
    yield db
    await db.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, try_channel="on")


@pytest.fixture(scope="session")
def library() -> FlowLibrary:
    """Compiled once per session: every flow version is immutable once loaded."""
    return FlowLibrary.load()


@pytest.fixture
async def tandem(
    settings: Settings, clock: FakeClock, library: FlowLibrary
) -> AsyncIterator[Tandem]:
    service = Tandem(settings, clock=clock, library=library)
    yield service
    await service.close()
