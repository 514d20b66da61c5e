"""Logging in and out of the console: argon2id passwords, throttling, server-side sessions."""

from __future__ import annotations

import secrets
from datetime import timedelta
from ipaddress import IPv4Network, IPv6Network, ip_address

from aiohttp import web

from bot.coaching import accounts
from bot.console import live
from bot.console.forms import Form
from bot.console.web import (
    COACH,
    COOKIE,
    CSRF,
    LOGIN_COOKIE,
    PREFIX,
    PageError,
    cookie_options,
    csrf_ok,
    render,
    see_other,
    tandem_of,
)
from storage import repo

# Verifying against this when the email is unknown keeps the response time the same.
_DUMMY_HASH = accounts.hash_password(secrets.token_urlsafe(16))


def client_address(request: web.Request, trusted: tuple[IPv4Network | IPv6Network, ...]) -> str:
    """The client's address: X-Forwarded-For is believed only when the peer is a trusted proxy
    (TANDEM_TRUSTED_PROXIES), and then the rightmost hop that is not one of them is the client."""
    peer = request.remote or "unknown"
    if not trusted or not _within(peer, trusted):
        return peer[:64]
    hops = [h.strip() for h in ",".join(request.headers.getall("X-Forwarded-For", [])).split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _within(hop, trusted):
            return hop[:64]
    return peer[:64]


def _within(address: str, networks: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _next(raw: str | None) -> str:
    """Only a path inside the console: never an open redirect."""
    if not raw or len(raw) > 2000 or any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        return PREFIX + "/"  # CR/LF would split the Location header
    if raw.startswith(PREFIX + "/") and not raw.startswith("//") and "\\" not in raw:
        return raw
    return PREFIX + "/"


def _login_page(
    request: web.Request, status: int = 200, error: str | None = None, email: str = ""
) -> web.Response:
    token = request.cookies.get(LOGIN_COOKIE, "")
    if len(token) != 43:
        token = secrets.token_urlsafe(32)
    request[CSRF] = token
    notice = None
    if request.query.get("expired"):
        notice = "You were logged out after a period of inactivity."
    elif request.query.get("out"):
        notice = "You have logged out."
    response = render(
        request,
        "login.html",
        status,
        error=error,
        notice=notice,
        email=email,
        next=_next(request.query.get("next")),
    )
    response.set_cookie(LOGIN_COOKIE, token, **cookie_options(tandem_of(request)))
    return response


async def login_form(request: web.Request) -> web.Response:
    return _login_page(request)


async def login(request: web.Request) -> web.Response:
    tandem = tandem_of(request)
    data = await request.post()
    if not csrf_ok(request.cookies.get(LOGIN_COOKIE, ""), data.get("csrf")):
        raise PageError(403, "The login form expired. Reload the page and try again.")
    form = Form(data)
    email = form.text("email", "Email", max_len=254).lower()
    raw = data.get("password")
    password = raw if isinstance(raw, str) else ""  # used exactly as typed: never stripped
    if not password:
        form.errors["password"] = "Password must not be empty."
    elif len(password) > 1000:
        form.errors["password"] = "Password must be at most 1000 characters."
    if form.errors:
        return _login_page(request, 422, " ".join(form.errors.values()), email)
    client = client_address(request, tandem.settings.trusted_proxy_networks)
    now = tandem.clock.now()
    async with tandem.db.session() as session:
        async with session.begin():  # committed before counting: see accounts.begin_login
            attempt = await accounts.begin_login(session, email, client, now)
        async with session.begin():
            if await accounts.login_throttled(session, attempt):
                await repo.log(session, now, "coach_login_throttled", None, {"client": client})
                return _login_page(
                    request,
                    429,
                    "Too many failed attempts. Wait 15 minutes, or ask an admin to help.",
                    email,
                )
            coach = await accounts.coach_by_email(session, email)
            stored = coach.password_hash if coach is not None and coach.active else None
            good = accounts.verify_password(stored or _DUMMY_HASH, password) and stored is not None
            if not good or coach is None:
                await repo.log(session, now, "coach_login_failed", None, {"client": client})
                failed = True
            else:
                attempt.success = True
                session.add(attempt)
                idle = timedelta(minutes=tandem.settings.session_idle_minutes)
                token, _row = await accounts.start_session(session, coach, now, idle)
                failed = False
    if failed:
        return _login_page(request, 401, "That email and password do not match.", email)
    response = see_other(_next(str(data.get("next", ""))))
    response.set_cookie(COOKIE, token, **cookie_options(tandem))
    response.del_cookie(LOGIN_COOKIE, path=PREFIX)
    return response


async def logout(request: web.Request) -> web.Response:
    tandem = tandem_of(request)
    now = tandem.clock.now()
    token = request.cookies.get(COOKIE, "")
    async with tandem.db.session() as session, session.begin():
        await accounts.end_session(session, token)
        await repo.log(session, now, "coach_logout", None, {"coach_id": request[COACH].id})
    live.end_session_streams(request.app, token)
    response = see_other(f"{PREFIX}/login?out=1")
    response.del_cookie(COOKIE, path=PREFIX)
    return response
