"""`tandem coach add`: creates the account (argon2id password), and --print-token ends with a
working API token."""

from __future__ import annotations

import asyncio
import os
import sys

from sqlalchemy import select

from bot.clock import SystemClock
from bot.coaching import accounts
from storage.db import Database
from storage.models import Coach


async def tandem_cli(db_url: str, *args: str, stdin: str = "") -> tuple[int, str, str]:
    env = {**os.environ, "TANDEM_DATABASE_URL": db_url}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from bot.cli import main; main(sys.argv[1:])",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await proc.communicate(stdin.encode())
    return proc.returncode or 0, out.decode(), err.decode()


async def test_coach_add_with_password_and_token(db_url: str, database: Database) -> None:
    code, out, err = await tandem_cli(
        db_url,
        "coach",
        "add",
        "Kim@Example.org",
        "--name",
        "Kim Lee",
        "--role",
        "supervisor",
        "--password-stdin",
        "--print-token",
        stdin="correct horse battery\n",
    )
    assert code == 0, err
    token = out.strip().splitlines()[-1]
    async with database.session() as session, session.begin():
        coach = (await session.execute(select(Coach))).scalar_one()
        assert (coach.email, coach.name, coach.role) == ("kim@example.org", "Kim Lee", "supervisor")
        assert coach.password_hash and coach.password_hash.startswith("$argon2id$")
        assert accounts.verify_password(coach.password_hash, "correct horse battery")
        assert not accounts.verify_password(coach.password_hash, "wrong")
        found = await accounts.coach_for_token(session, token, SystemClock().now())
        assert found is not None and found.id == coach.id
    code, _, err = await tandem_cli(db_url, "coach", "add", "kim@example.org", "--name", "K")
    assert code == 1 and "already exists" in err


async def test_coach_add_rejects_bad_input(db_url: str) -> None:
    code, _, err = await tandem_cli(
        db_url, "coach", "add", "x@y.org", "--name", "X", "--role", "boss"
    )
    assert code == 2 and "invalid choice" in err
    code, _, err = await tandem_cli(db_url, "coach", "add", "not-an-email", "--name", "X")
    assert code == 1 and "not an email address" in err
    code, _, err = await tandem_cli(
        db_url, "coach", "add", "x@y.org", "--name", "X", "--password-stdin", stdin="short\n"
    )
    assert code == 2 and "at least 12 characters" in err
