"""The try-it web chat in Chromium at a phone's size: the newest message is always fully in
view (never cut off under the input), the page never scrolls sideways, and "Start over" begins
a new conversation from the first message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser.conftest import overflow
from tests.e2e.server import Server

# Part of the window the last message shows in: its bottom edge inside the log's box.
LAST_IN_VIEW = """() => {
  const log = document.getElementById('log');
  const last = log.lastElementChild;
  if (!last) { return false; }
  const box = log.getBoundingClientRect(), msg = last.getBoundingClientRect();
  const form = document.getElementById('form').getBoundingClientRect();
  return msg.bottom <= box.bottom + 1 && msg.top >= box.top - 1 && form.bottom <= innerHeight + 1;
}"""


async def _say(page: Any, text: str, replies_at_least: int) -> None:
    from playwright.async_api import expect

    await page.get_by_label("Message").fill(text)
    await page.get_by_role("button", name="Send").click()
    await expect(page.locator("#log .msg.out")).to_have_count(replies_at_least)


async def test_the_last_message_stays_in_view_and_start_over_begins_again(
    server: Server, browser: Any, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    page = await browser.new_page(viewport={"width": 390, "height": 600})
    await page.goto(f"{server.url}/try")
    await expect(page.get_by_role("button", name="Start over")).to_be_visible()
    await _say(page, "hello", 3)
    opening = await page.locator("#log .msg.out").first.text_content()
    await _say(page, "yes", 4)
    await _say(page, "Sam", 5)
    # Every message in order, the patient's own words among them, the newest fully in view.
    texts = await page.locator("#log .msg").all_text_contents()
    assert texts[0] == "hello" and "Sam" in texts
    await page.wait_for_function(LAST_IN_VIEW)
    assert await overflow(page) == 0
    await page.screenshot(path=str(tmp_path / "try-390.png"))

    await page.get_by_role("button", name="Start over").click()
    await expect(page.locator("#log .msg")).to_have_count(0)
    await _say(page, "hello", 3)
    assert await page.locator("#log .msg.out").first.text_content() == opening
    await page.wait_for_function(LAST_IN_VIEW)
