"""The coach console in a real browser (Debian's Chromium through Playwright) against a real
`tandem serve`: a risk message appears in the queue without a reload, with the patient's words,
the coach takes over, replies (the patient receives it on the try-it channel), hands back, and
the bot answers again. Every page is then checked at a phone's width (390 px): no sideways
scrolling, 44 px tap targets. Screenshots at 1280 and 390 px go to the test's tmp_path.

Every wait is on a condition (Playwright's auto-waiting `expect`, the live feed's
`data-live-state`, the try-it API), never a sleep: the feed must be open before the message
that should appear through it is sent."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import aiohttp

from tests.browser.conftest import DESKTOP, PASSWORD, PHONE, SMALL_TARGETS, overflow
from tests.e2e.server import Server, post, replies, sid

REPLY = "Hi, this is Ana from your care team. I'm here with you."
NAME_QUESTION = "Welcome! What name would you like me to call you?"
RISK = "I want to kill myself"
WAIT_S = 60.0


async def _messages(http: aiohttp.ClientSession, base: str, session: str) -> list[dict[str, Any]]:
    async with http.get(f"{base}/try/api/messages", params={"session": sid(session)}) as resp:
        return list((await resp.json())["messages"])


async def _wait_for_sent(http: aiohttp.ClientSession, base: str, session: str, text: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_S
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
        await asyncio.sleep(0.1)  # polling the API for a condition, not waiting blind


async def _live(page: Any) -> None:
    """The page's live feed is open (it has caught up with the database on opening)."""
    from playwright.async_api import expect

    await expect(page.locator("body")).to_have_attribute("data-live-state", "open")


async def _shoot(page: Any, tmp_path: Path, name: str) -> None:
    """Screenshots at desktop and phone widths; at the phone's, nothing scrolls sideways."""
    await page.set_viewport_size(DESKTOP)
    await page.screenshot(path=str(tmp_path / f"{name}-1280.png"), full_page=True)
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=str(tmp_path / f"{name}-390.png"), full_page=True)
    assert await overflow(page) == 0, f"{name} scrolls sideways at 390 px"
    assert await page.evaluate(SMALL_TARGETS) == [], f"{name}: tap targets under 44 px"
    await page.set_viewport_size(DESKTOP)


async def test_coach_sees_a_risk_escalation_live_takes_over_replies_and_hands_back(
    server: Server, browser: Any, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    base = server.url
    api = f"{base}/try/api/messages"
    async with aiohttp.ClientSession() as http:
        assert (await post(http, api, {"session": sid("pat"), "text": "hello"}))[0] == 202
        await replies(http, base, "pat", 3, timeout=WAIT_S)

        page = await browser.new_page(viewport=DESKTOP)
        await page.goto(f"{base}/console/")
        await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        await page.get_by_label("Email").fill("ana@example.org")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await expect(page.get_by_role("heading", name="Queue")).to_be_visible()
        await expect(page.get_by_text("Nothing waiting")).to_be_visible()
        await _live(page)

        # A risk message arrives: the row appears with no reload, with the patient's words, when
        # it was raised and a live countdown.
        assert (await post(http, api, {"session": sid("pat"), "text": RISK}))[0] == 202
        row = page.locator("#queue-rows tr[data-escalation]")
        await expect(row).to_have_count(1)
        await expect(row.locator(".badge").first).to_have_text("urgent")
        await expect(row.locator(".excerpt")).to_have_text(f"“{RISK}”")
        await expect(row.locator("time.raised")).to_have_text(re.compile(r"UTC$"))
        countdown = row.locator("time.countdown")
        first = await countdown.text_content()
        await expect(countdown).not_to_have_text(first or "")  # it ticks
        await expect(countdown).to_contain_text("left")
        await _shoot(page, tmp_path, "queue")

        await row.get_by_role("link").click()
        await expect(page.get_by_role("heading", name="Escalations and takeover")).to_be_visible()
        # Before a takeover there is nothing to hand back.
        await expect(page.get_by_role("button", name="Hand back")).to_have_count(0)
        await page.get_by_role("button", name="Take over the conversation").click()
        await expect(page.get_by_text("You have taken this conversation over")).to_be_visible()
        await page.get_by_label("Message to the patient").fill(REPLY)
        await page.get_by_role("button", name="Send").click()
        await expect(page.get_by_text("Your message is queued")).to_be_visible()
        await _live(page)
        await _wait_for_sent(http, base, "pat", REPLY)

        # The patient answers: the transcript shows it without a reload.
        assert (await post(http, api, {"session": sid("pat"), "text": "thank you, that helps"}))[
            0
        ] == 202
        await expect(page.locator("#transcript")).to_contain_text("thank you, that helps")
        await _shoot(page, tmp_path, "patient")

        await page.get_by_label("Outcome note (resolves the open escalations)").fill(
            "Spoke with the patient; safe for now, safety plan next session."
        )
        await page.get_by_label("Resume the flow where it was").check()
        await page.get_by_role("button", name="Hand back").click()
        await expect(page.get_by_text("Handed back to the bot")).to_be_visible()

        for path, heading in (
            ("/console/caseload", "My caseload"),
            ("/console/templates", "Message templates"),
            ("/console/team", "Team"),
        ):
            await page.goto(base + path)
            await expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
            if path.endswith("caseload"):  # Ana has no patients of her own: it says so
                await expect(page.locator("#caseload-empty")).to_contain_text("assigned to you")
            await _shoot(page, tmp_path, path.rsplit("/", 1)[-1])
        assert sorted(p.name for p in tmp_path.glob("*.png")) == sorted(
            f"{name}-{width}.png"
            for name in ("queue", "patient", "caseload", "templates", "team")
            for width in (1280, 390)
        )

        # The bot resumes: onboarding was waiting for consent, the next reply gets its answer.
        before = len([m for m in await _messages(http, base, "pat") if m["direction"] == "out"])
        assert (await post(http, api, {"session": sid("pat"), "text": "yes"}))[0] == 202
        texts = await replies(http, base, "pat", before + 1, timeout=WAIT_S)
        assert texts[-1] == NAME_QUESTION
