"""Engine set-up for both databases.

SQLite: WAL, a busy timeout, foreign keys, and every transaction begun with BEGIN IMMEDIATE, since a
deferred transaction that reads and then writes fails with "database is locked" under concurrency
even with a busy timeout. PostgreSQL: row locks (SELECT ... FOR UPDATE) serialize a patient across
processes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

SQLITE_BUSY_TIMEOUT_MS = 30_000


T = TypeVar("T")


def _prepare_sqlite_file(url: str) -> None:
    database = make_url(url).database or ""
    if database and not database.startswith("file:") and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_hooks(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook below emit BEGIN itself, not the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, *, pool_size: int = 20, pool_timeout: float = 10.0) -> AsyncEngine:
    """An async engine for `url` with Tandem's connection settings applied.

    `pool_size` is the most connections this process opens (no overflow), so a deployment's
    total is processes x pool size, checked against the server's max_connections; a caller
    waits at most `pool_timeout` seconds for one (SQLAlchemy's default is 30).
    """
    if url.startswith("sqlite"):
        _prepare_sqlite_file(url)
        in_memory = ":memory:" in url
        kwargs: dict[str, Any] = {
            "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            "hide_parameters": True,
        }
        if in_memory:
            kwargs["poolclass"] = StaticPool
            kwargs["connect_args"]["check_same_thread"] = False
        else:
            kwargs.update(pool_size=pool_size, max_overflow=0, pool_timeout=pool_timeout)
        engine = create_async_engine(url, **kwargs)
        _sqlite_hooks(engine)
        return engine
    # No pre-ping: it costs a round trip per checkout on the hot path. Connections dropped by the
    # server fail their statement, which the caller's transaction handling already copes with,
    # and are recycled well before typical idle-timeouts.
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=pool_timeout,
        pool_recycle=1800,
        hide_parameters=True,  # error messages never carry bodies or phone numbers
    )


class Carried(Generic[T]):
    """A piece of a service's configuration that travels with every session of its database
    (`Database.context`): set once when the service is built, read where a session is at hand."""

    def __init__(self, name: str) -> None:
        self.name = name

    def set(self, db: Database, value: T) -> None:
        db.context[self.name] = value

    def get(self, session: AsyncSession | Session) -> T | None:
        sync = session.sync_session if isinstance(session, AsyncSession) else session
        found: T | None = sync.info.get(self.name)
        return found


class TandemSession(Session):
    """Tandem's own session class: its event hooks (batched writes, after-commit callbacks)
    attach here, never to SQLAlchemy's `Session` that other code in the process may use."""


_CUSTOM_PLANS = text("SET LOCAL plan_cache_mode = force_custom_plan")


async def plan_afresh(session: AsyncSession) -> None:
    """For the rest of this transaction on PostgreSQL, plan each statement for the tables as
    they are now. asyncpg prepares statements, and after a few runs PostgreSQL may keep a
    generic plan made once per connection, often while a table was small and had no statistics
    (autovacuum off, or just truncated): batch claims that read a growing table then walk all of
    it (bench: dispatch claims 100-400 ms, check-in batch reads 26 ms). Used where one extra
    statement per batch is cheap next to what it protects."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(_CUSTOM_PLANS)


class Database:
    """The engine plus a session factory; `is_postgres` picks row locking and SKIP LOCKED."""

    def __init__(self, url: str, *, pool_size: int = 20, pool_timeout: float = 10.0) -> None:
        self.url = url
        self.engine = create_engine(url, pool_size=pool_size, pool_timeout=pool_timeout)
        # What every session of this database carries in `Session.info` (the process's
        # escalation policy, where alerts go): configuration passed with the session, so two
        # services in one process never share it.
        self.context: dict[str, Any] = {}
        self.sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, info=self.context, sync_session_class=TandemSession
        )
        self.is_postgres = self.engine.dialect.name == "postgresql"

    def session(self) -> AsyncSession:
        return self.sessions()

    async def close(self) -> None:
        await self.engine.dispose()
