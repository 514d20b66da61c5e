"""The coach console in a real browser (Debian's Chromium through Playwright) against a real
`tandem serve`: a risk message appears in the queue without a reload, the coach takes over,
replies (the patient receives it on the try-it channel), hands back, and the bot answers again.
Screenshots of the queue and the patient page go to tests/artifacts/."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.server import TANDEM, Server, post, replies, sid

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "a long console password"
REPLY = "Hi, this is Ana from your care team. I'm here with you."
NAME_QUESTION = "Welcome! What name would you like me to call you?"


def _need_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    reason = f"Chromium not found ({CHROMIUM}); the console's browser tests need Debian's chromium"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


async def _messages(http: aiohttp.ClientSession, base: str, session: str) -> list[dict[str, Any]]:
    async with http.get(f"{base}/try/api/messages", params={"session": sid(session)}) as resp:
        return list((await resp.json())["messages"])


async def _wait_for_sent(
    http: aiohttp.ClientSession, base: str, session: str, text: str, timeout: float = 15.0
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = [
            m
            for m in await _messages(http, base, session)
            if m["direction"] == "out" and m["text"] == text and m["status"] == "sent"
        ]
        if found:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{text!r} never reached the patient")
        await asyncio.sleep(0.1)


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    _need_chromium()
    added = subprocess.run(
        [str(TANDEM), "coach", "add", "ana@example.org", "--name", "Ana", "--password-stdin"],
        input=PASSWORD + "\n",
        text=True,
        capture_output=True,
        env={**os.environ, "TANDEM_DATABASE_URL": db_url},
        check=False,
    )
    assert added.returncode == 0, added.stderr
    serve = Server(db_url, tmp_path / "serve.log")
    try:
        await serve.start()
        yield serve
    finally:
        serve.stop()


async def test_coach_sees_a_risk_escalation_live_takes_over_replies_and_hands_back(
    server: Server,
) -> None:
    from playwright.async_api import async_playwright, expect

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = server.url
    api = f"{base}/try/api/messages"
    async with aiohttp.ClientSession() as http, async_playwright() as p:
        assert (await post(http, api, {"session": sid("pat"), "text": "hello"}))[0] == 202
        await replies(http, base, "pat", 3)

        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await page.goto(f"{base}/console/")
            await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
            await page.get_by_label("Email").fill("ana@example.org")
            await page.get_by_label("Password").fill(PASSWORD)
            await page.get_by_role("button", name="Log in").click()
            await expect(page.get_by_role("heading", name="Queue")).to_be_visible()
            await expect(page.get_by_text("Nothing waiting")).to_be_visible()
            await page.wait_for_function("window.EventSource !== undefined")
            await asyncio.sleep(0.5)  # let the live feed connect

            # A risk message arrives: the row appears with no reload, with a live countdown.
            await post(http, api, {"session": sid("pat"), "text": "I want to kill myself"})
            row = page.locator("#queue-rows tr[data-escalation]")
            await expect(row).to_have_count(1, timeout=10_000)
            await expect(row.locator(".badge")).to_have_text("urgent")
            countdown = row.locator("time.countdown")
            first = await countdown.text_content()
            await page.wait_for_timeout(1500)
            assert await countdown.text_content() != first  # it ticks
            assert "left" in (await countdown.text_content() or "")
            await page.screenshot(path=str(ARTIFACTS / "console-queue.png"), full_page=True)

            await row.get_by_role("link").click()
            await expect(
                page.get_by_role("heading", name="Escalations and takeover")
            ).to_be_visible()
            await page.get_by_role("button", name="Take over the conversation").click()
            await expect(page.get_by_text("You have taken this conversation over")).to_be_visible()
            await page.get_by_label("Message to the patient").fill(REPLY)
            await page.get_by_role("button", name="Send").click()
            await expect(page.get_by_text("Your message is queued")).to_be_visible()
            await _wait_for_sent(http, base, "pat", REPLY)

            # The patient answers: the transcript shows it without a reload.
            await post(http, api, {"session": sid("pat"), "text": "thank you, that helps"})
            await expect(page.locator("#transcript")).to_contain_text(
                "thank you, that helps", timeout=10_000
            )
            await page.screenshot(path=str(ARTIFACTS / "console-patient.png"), full_page=True)

            await page.get_by_label("Outcome note (resolves the open escalations)").fill(
                "Spoke with the patient; safe for now, safety plan next session."
            )
            await page.get_by_label("Resume the flow where it was").check()
            await page.get_by_role("button", name="Hand back").click()
            await expect(page.get_by_text("Handed back to the bot")).to_be_visible()
        finally:
            await browser.close()

        # The bot resumes: onboarding was waiting for consent, the next reply gets its answer.
        before = len([m for m in await _messages(http, base, "pat") if m["direction"] == "out"])
        await post(http, api, {"session": sid("pat"), "text": "yes"})
        texts = await replies(http, base, "pat", before + 1)
        assert texts[-1] == NAME_QUESTION
