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
from storage.models import Coach, Event


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
    code, _, err = await tandem_cli(
        db_url, "coach", "add", "kim@example.org", "--name", "K", "--print-token"
    )
    assert code == 1 and "already exists" in err


async def test_coach_add_rejects_bad_input(db_url: str) -> None:
    code, _, err = await tandem_cli(
        db_url, "coach", "add", "x@y.org", "--name", "X", "--role", "boss"
    )
    assert code == 2 and "invalid choice" in err
    code, _, err = await tandem_cli(
        db_url, "coach", "add", "not-an-email", "--name", "X", "--print-token"
    )
    assert code == 1 and "not an email address" in err
    code, _, err = await tandem_cli(db_url, "coach", "add", "x@y.org", "--name", "X")
    assert code == 2 and "needs a console password" in err
    code, _, err = await tandem_cli(
        db_url, "coach", "add", "x@y.org", "--name", "X", "--password-stdin", stdin="short\n"
    )
    assert code == 2 and "at least 12 characters" in err


async def test_list_disable_enable_reset_and_rotate(db_url: str, database: Database) -> None:
    password = "correct horse battery\n"
    args = ("--name", "Kim", "--password-stdin", "--print-token")
    code, out, err = await tandem_cli(
        db_url, "coach", "add", "kim@example.org", *args, stdin=password
    )
    assert code == 0, err
    old_token = out.strip().splitlines()[-1]
    code, out, _ = await tandem_cli(db_url, "coach", "list")
    assert code == 0 and "kim@example.org\tcoach\tactive\tyes\t1\t" in out

    assert (await tandem_cli(db_url, "coach", "disable", "kim@example.org"))[0] == 0
    async with database.session() as session, session.begin():
        assert await accounts.coach_for_token(session, old_token, SystemClock().now()) is None
    assert "disabled" in (await tandem_cli(db_url, "coach", "list"))[1]
    assert (await tandem_cli(db_url, "coach", "enable", "kim@example.org"))[0] == 0

    code, _, err = await tandem_cli(
        db_url,
        "coach",
        "reset-password",
        "kim@example.org",
        "--password-stdin",
        stdin="a brand new passphrase\n",
    )
    assert code == 0, err
    code, out, err = await tandem_cli(db_url, "coach", "rotate-token", "kim@example.org")
    assert code == 0, err
    new_token = out.strip().splitlines()[-1]
    async with database.session() as session, session.begin():
        coach = (await session.execute(select(Coach))).scalar_one()
        assert accounts.verify_password(coach.password_hash, "a brand new passphrase")
        now = SystemClock().now()
        assert await accounts.coach_for_token(session, old_token, now) is None
        found = await accounts.coach_for_token(session, new_token, now)
        assert found is not None and found.id == coach.id
        kinds = list((await session.execute(select(Event.kind))).scalars())
    for kind in ("coach_disabled", "coach_enabled", "coach_password_reset", "api_tokens_revoked"):
        assert kind in kinds
    code, _, err = await tandem_cli(db_url, "coach", "disable", "nobody@example.org")
    assert code == 1 and "no coach" in err
