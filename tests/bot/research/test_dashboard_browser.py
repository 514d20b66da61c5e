"""The study dashboard in a real browser (Debian's Chromium through Playwright) against a real
`tandem serve`: a supervisor finds it in the navigation, sees every chart and downloads a chart's
CSV; a coach has no link and gets the 403 page (screenshot: study-dashboard.png in tmp_path)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.coaching import accounts
from storage.db import Database
from tests.bot.research.seed import seed
from tests.bot.research.test_dashboard import SLUGS
from tests.browser.conftest import ARGS, CHROMIUM, WAIT_MS, _need_chromium
from tests.e2e.server import Server

PASSWORD = "a long console password"


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    _need_chromium()
    db = Database(db_url)
    try:
        now = datetime.now(UTC)
        await seed(db, patients=12, weeks=5, start=now - timedelta(weeks=5, days=1))
        async with db.session() as session, session.begin():
            for email, role in (("sam@example.org", "supervisor"), ("cy@example.org", "coach")):
                await accounts.create_coach(
                    session, email, email[:3].title(), role, now, password=PASSWORD
                )
    finally:
        await db.close()
    serve = Server(db_url, tmp_path / "serve.log")
    try:
        await serve.start()
        yield serve
    finally:
        serve.stop()


async def _log_in(page: object, base: str, email: str) -> None:
    from playwright.async_api import Page, expect

    assert isinstance(page, Page)
    await page.goto(f"{base}/console/")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("heading", name="Queue")).to_be_visible()


async def test_a_supervisor_reads_the_dashboard_and_a_coach_cannot(
    server: Server, tmp_path: Path
) -> None:
    from playwright.async_api import async_playwright, expect

    # Conditions, not sleeps: each wait ends when it holds, with room for a loaded machine.
    expect.set_options(timeout=WAIT_MS)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await _log_in(page, server.url, "sam@example.org")
            await page.get_by_role("link", name="Study").click()
            await expect(page.get_by_role("heading", name="Study dashboard")).to_be_visible()
            charts = page.get_by_role("img")
            await expect(charts).to_have_count(len(SLUGS))
            await expect(
                page.get_by_role("heading", name="Enrolment by arm over time")
            ).to_be_visible()
            await expect(
                page.get_by_role(
                    "img", name="PHQ-9 by arm: mean total with 95% CI, by week since enrolment"
                )
            ).to_be_visible()
            await expect(page.get_by_role("link", name="Download the data (CSV)")).to_have_count(
                len(SLUGS)
            )
            # Charts have data: no "No data yet" placeholder anywhere.
            await expect(page.get_by_text("No data yet")).to_have_count(0)
            box = await charts.first.bounding_box()
            assert box is not None and box["width"] > 300
            await page.screenshot(path=str(tmp_path / "study-dashboard.png"), full_page=True)
            async with page.expect_download() as info:
                await page.locator('a[href="/console/study/retention.csv"]').click()
            download = await info.value
            text = Path(await download.path()).read_text()
            assert text.splitlines()[0] == "week_since_enrolment,arm,participants,retained,percent"

            coach = await browser.new_page(viewport={"width": 1280, "height": 900})
            await _log_in(coach, server.url, "cy@example.org")
            await expect(coach.get_by_role("link", name="Study")).to_have_count(0)
            response = await coach.goto(f"{server.url}/console/study")
            assert response is not None and response.status == 403
            await expect(
                coach.get_by_text("The study dashboard is for supervisors and admins.")
            ).to_be_visible()
        finally:
            await browser.close()
