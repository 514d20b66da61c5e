"""`tandem chat` while `tandem serve` runs on the same database: every reply the terminal's
patient is sent is printed by the terminal (the server, which has a try-it channel of its own,
takes none of them), and `--new` starts over from the first message."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

from sqlalchemy import select

from storage.db import Database
from storage.models import Message
from tests.e2e.server import TANDEM, Server

ONBOARDING = "hi\nyes\nSam\n9am\n0\n1\n0\n0\n2\n"  # README's demo


def _chat(db_url: str, stdin: str, *args: str) -> str:
    done = subprocess.run(
        [str(TANDEM), "chat", "--address", "demo", *args],
        input=stdin,
        text=True,
        capture_output=True,
        env={**os.environ, "TANDEM_DATABASE_URL": db_url},
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _in_order(printed: str, sent: list[str]) -> bool:
    """Every message sent is printed, in the order sent."""
    at = 0
    for body in sent:
        at = printed.find(f"tandem> {body}\n", at)
        if at < 0:
            return False
        at += len(body)
    return True


async def _sent_to_terminal(db_url: str) -> list[str]:
    db = Database(db_url)
    try:
        async with db.session() as session:
            rows = await session.execute(
                select(Message.body)
                .where(Message.channel == "terminal", Message.direction == "out")
                .order_by(Message.id)
            )
            return list(rows.scalars())
    finally:
        await db.close()


async def test_chat_beside_a_running_server_loses_no_reply(db_url: str, tmp_path: Path) -> None:
    server = Server(db_url, tmp_path / "serve.log")
    try:
        await server.start(timeout=60.0)
        printed = await asyncio.to_thread(_chat, db_url, ONBOARDING)
        sent = await _sent_to_terminal(db_url)
        assert len(sent) > 9 and _in_order(printed, sent)
        assert printed.count("tandem> ") == len(sent)
        assert sent[-1] == "Reply MENU any time to see the exercises, or to switch programs."

        again = await asyncio.to_thread(_chat, db_url, "hi\n", "--new")
        assert again.startswith("Started a new conversation")
        assert f"tandem> {sent[0]}\n" in again  # the first message again, for a new patient
    finally:
        server.stop()
