"""Schema migrations (Alembic) run on Tandem's own async engine.

Areas add migrations as separate branches off the initial revision when they are developed side by
side, so upgrades target "heads" and the schema is current when every head is applied.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from storage.db import Database

MIGRATIONS = Path(__file__).with_name("migrations")
# PostgreSQL advisory lock key held while migrating: processes starting together on a fresh
# database take turns, and the later ones find nothing left to do.
MIGRATION_LOCK = 0x74616E64656D  # "tandem"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "heads")


def _pending(connection: Connection) -> set[str]:
    script = ScriptDirectory.from_config(alembic_config())
    current = set(MigrationContext.configure(connection).get_current_heads())
    return set(script.get_heads()) - current


async def upgrade(db: Database) -> None:
    """Apply every migration not yet applied (one process at a time on PostgreSQL; SQLite's
    BEGIN IMMEDIATE already serializes)."""
    async with db.engine.begin() as conn:
        if db.is_postgres:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        await conn.run_sync(_upgrade)


async def pending_heads(db: Database) -> set[str]:
    """Heads not yet applied; empty when the schema is current."""
    async with db.engine.connect() as conn:
        return await conn.run_sync(_pending)
