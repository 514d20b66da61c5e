"""Live events go out after the outermost commit only: never when a savepoint is released (the
rows are not visible to a console yet), never for work a rollback undid."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bot.coaching.events import after_commit
from storage.db import Database


class Boom(Exception):
    pass


async def test_a_released_savepoint_waits_for_the_outer_commit(database: Database) -> None:
    fired: list[str] = []
    async with database.session() as session, session.begin():
        async with session.begin_nested():
            after_commit(session, lambda: fired.append("inner"))
        assert fired == []  # released, but the outer transaction could still roll back
        await session.execute(text("SELECT 1"))
        assert fired == []
    assert fired == ["inner"]


async def test_a_rolled_back_savepoint_drops_only_its_own_callbacks(database: Database) -> None:
    fired: list[str] = []
    async with database.session() as session, session.begin():
        after_commit(session, lambda: fired.append("before"))
        with pytest.raises(Boom):
            async with session.begin_nested():
                after_commit(session, lambda: fired.append("undone"))
                async with session.begin_nested():
                    after_commit(session, lambda: fired.append("undone, deeper"))
                raise Boom
        after_commit(session, lambda: fired.append("after"))
    assert fired == ["before", "after"]


async def test_an_outer_rollback_drops_everything(database: Database) -> None:
    fired: list[str] = []
    with pytest.raises(Boom):
        async with database.session() as session, session.begin():
            after_commit(session, lambda: fired.append("outer"))
            async with session.begin_nested():
                after_commit(session, lambda: fired.append("inner"))
            raise Boom
    async with database.session() as session, session.begin():
        pass  # a later transaction on a fresh session runs nothing left over
    assert fired == []
