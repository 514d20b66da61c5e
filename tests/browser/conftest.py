"""A real `tandem serve` (ready once /readyz answers 200) with one coach, and headless Chromium
(Debian's, never a downloaded one). Generous bounds on every wait: the machines running the
suite may be loaded, and each wait ends as soon as its condition holds."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import TANDEM, Server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "a long console password"
WAIT_MS = 30_000  # the most any one condition may take before the test fails
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _need_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    reason = f"Chromium not found ({CHROMIUM}); the console's browser tests need Debian's chromium"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


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
        await serve.start(timeout=60.0)
        yield serve
    finally:
        serve.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright, expect

    _need_chromium()
    expect.set_options(timeout=WAIT_MS)
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


async def overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the window (0: no sideways scrolling)."""
    return int(
        await page.evaluate("Math.max(0, document.documentElement.scrollWidth - window.innerWidth)")
    )


# Visible controls smaller than a 44 px tap target (WCAG 2.5.5), described for the message.
SMALL_TARGETS = """() => Array.from(document.querySelectorAll(
    'button, select, input:not([type=hidden]):not([type=radio]), nav a, td a, summary'))
  .filter(el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0
    && getComputedStyle(el).visibility !== 'hidden' && r.height < 44; })
  .map(el => el.tagName + ' ' + (el.textContent || el.name || '').trim().slice(0, 30)
    + ' ' + Math.round(el.getBoundingClientRect().height))"""
