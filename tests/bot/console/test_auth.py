"""Console login, throttling, CSRF, cookies and automatic logoff after inactivity."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.app import create_app
from bot.clock import FakeClock
from bot.coaching import accounts
from bot.service import Tandem
from storage.models import CoachSession, Event
from tests.bot.console.conftest import PASSWORD, Client, Staff, csrf_of, login


async def _attempt(client: Client, email: str, password: str) -> tuple[int, str]:
    page = await client.get("/console/login")
    token = csrf_of(await page.text())
    response = await client.post(
        "/console/login",
        data={"email": email, "password": password, "csrf": token},
        allow_redirects=False,
    )
    return response.status, await response.text()


async def _events(tandem: Tandem, kind: str) -> int:
    async with tandem.db.session() as session:
        count = await session.scalar(
            select(func.count()).select_from(Event).where(Event.kind == kind)
        )
    return int(count or 0)


async def test_good_password_logs_in_with_strict_http_only_cookie(
    client: Client, staff: Staff
) -> None:
    page = await client.get("/console/login")
    token = csrf_of(await page.text())
    response = await client.post(
        "/console/login",
        data={"email": "KIM@example.org ", "password": PASSWORD, "csrf": token},
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == "/console/"
    cookie = next(
        h for h in response.headers.getall("Set-Cookie") if h.startswith("tandem_console=")
    )
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # the public URL is http in tests
    queue = await client.get("/console/")
    html = await queue.text()
    assert queue.status == 200 and "Kim" in html and "<h1>Queue</h1>" in html
    assert queue.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in queue.headers["Content-Security-Policy"]


async def test_bad_password_and_unknown_email_are_refused_alike(
    client: Client, staff: Staff, tandem: Tandem
) -> None:
    status, html = await _attempt(client, "kim@example.org", "wrong password")
    assert status == 401 and "do not match" in html
    status, html = await _attempt(client, "nobody@example.org", PASSWORD)
    assert status == 401 and "do not match" in html
    assert await _events(tandem, "coach_login_failed") == 2
    assert (await client.get("/console/", allow_redirects=False)).status == 303


async def test_empty_fields_get_a_clear_message(client: Client, staff: Staff) -> None:
    status, html = await _attempt(client, "", "")
    assert status == 422
    assert "Email must not be empty" in html and "Password must not be empty" in html


async def test_throttled_after_five_failures_even_with_the_right_password(
    client: Client, staff: Staff, tandem: Tandem, clock: FakeClock
) -> None:
    for _ in range(5):
        assert (await _attempt(client, "kim@example.org", "nope nope"))[0] == 401
    status, html = await _attempt(client, "kim@example.org", PASSWORD)
    assert status == 429 and "Too many failed attempts" in html
    assert await _events(tandem, "coach_login_throttled") == 1
    clock.advance(timedelta(minutes=16))
    assert (await _attempt(client, "kim@example.org", PASSWORD))[0] == 303


async def test_login_needs_its_form_token(client: Client, staff: Staff) -> None:
    response = await client.post(
        "/console/login", data={"email": "kim@example.org", "password": PASSWORD}
    )
    assert response.status == 403
    assert "login form expired" in await response.text()


async def test_posts_without_or_with_a_wrong_csrf_token_are_rejected(
    client: Client, staff: Staff
) -> None:
    csrf = await login(client, "kim@example.org")
    for data in ({}, {"csrf": "forged"}, {"csrf": csrf + "x"}):
        response = await client.post("/console/team/availability", data={**data, "available": "no"})
        assert response.status == 403
        assert "did not come from the console" in await response.text()
    ok = await client.post(
        "/console/team/availability",
        data={"csrf": csrf, "available": "no"},
        allow_redirects=False,
    )
    assert ok.status == 303


async def test_idle_session_is_logged_off_and_activity_keeps_it(
    client: Client, staff: Staff, clock: FakeClock, tandem: Tandem
) -> None:
    await login(client, "kim@example.org")
    clock.advance(timedelta(minutes=10))
    assert (await client.get("/console/caseload")).status == 200  # activity slides the expiry
    clock.advance(timedelta(minutes=10))
    assert (await client.get("/console/caseload")).status == 200
    # Background refreshes by the page's script do not count as activity.
    clock.advance(timedelta(minutes=10))
    background = {"X-Tandem-Background": "1"}
    assert (await client.get("/console/queue/rows", headers=background)).status == 200
    clock.advance(timedelta(minutes=6))
    assert (await client.get("/console/queue/rows", headers=background)).status == 401
    response = await client.get("/console/caseload", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/console/login?expired=1&next=")
    page = await client.get(response.headers["Location"])
    assert "logged out after a period of inactivity" in await page.text()
    async with tandem.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(CoachSession)) == 0


async def test_logout_ends_the_session(client: Client, staff: Staff, tandem: Tandem) -> None:
    csrf = await login(client, "kim@example.org")
    response = await client.post("/console/logout", data={"csrf": csrf}, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/console/login?out=1"
    assert (await client.get("/console/", allow_redirects=False)).status == 303
    assert await _events(tandem, "coach_logout") == 1


async def test_next_is_kept_but_never_leaves_the_console(client: Client, staff: Staff) -> None:
    page = await client.get("/console/login?next=//evil.example/x")
    assert 'name="next" value="/console/"' in await page.text()
    page = await client.get("/console/login?next=/console/caseload")
    token = csrf_of(await page.text())
    response = await client.post(
        "/console/login",
        data={
            "email": "kim@example.org",
            "password": PASSWORD,
            "csrf": token,
            "next": "/console/caseload",
        },
        allow_redirects=False,
    )
    assert response.headers["Location"] == "/console/caseload"


async def test_cookie_is_secure_behind_https(tandem: Tandem, staff: Staff) -> None:
    https = Tandem(
        tandem.settings.model_copy(update={"public_url": "https://coach.example.org"}),
        clock=tandem.clock,
        library=tandem.library,
    )
    try:
        async with TestClient(TestServer(create_app(https))) as client:
            page = await client.get("/console/login")
            assert "Secure" in page.headers["Set-Cookie"]
    finally:
        await https.close()


async def test_password_is_used_exactly_as_typed(client: Client, tandem: Tandem) -> None:
    async with tandem.db.session() as session, session.begin():
        await accounts.create_coach(
            session, "sam@example.org", "Sam", "coach", tandem.clock.now(), password=" spaced pass "
        )
    assert (await _attempt(client, "sam@example.org", "spaced pass"))[0] == 401
    assert (await _attempt(client, "sam@example.org", " spaced pass "))[0] == 303


async def test_cr_lf_in_next_cannot_split_the_redirect(client: Client, staff: Staff) -> None:
    page = await client.get("/console/login", params={"next": "/console/\r\nSet-Cookie: x=1"})
    assert page.status == 200
    token = csrf_of(await page.text())
    response = await client.post(
        "/console/login",
        data={
            "email": "kim@example.org",
            "password": PASSWORD,
            "csrf": token,
            "next": "/console/\r\nSet-Cookie: evil=1",
        },
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == "/console/"
    assert "evil" not in response.headers.get("Set-Cookie", "")
