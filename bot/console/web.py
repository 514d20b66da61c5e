"""The console's request plumbing: templates, the session and CSRF middleware, error pages."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog
from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from bot.coaching import accounts
from bot.coaching.escalations import EscalationError
from bot.coaching.service import NotFound
from bot.coaching.takeover import TakeoverError
from bot.console import queries
from bot.service import Tandem
from storage import faults, repo
from storage.models import Coach

log = structlog.get_logger("tandem.console")

PREFIX = "/console"
COOKIE = "tandem_console"
LOGIN_COOKIE = "tandem_console_login"  # double-submit CSRF token for the login form
# Requests the page's own script makes in the background: they must not count as activity.
BACKGROUND_HEADER = "X-Tandem-Background"
CONSOLE_TANDEM = web.AppKey("tandem_console", Tandem)
COACH = web.RequestKey("tandem_console_coach", Coach)
CSRF = web.RequestKey("tandem_console_csrf", str)
EXPIRES = web.RequestKey("tandem_console_expires", datetime)
PUBLIC_PATHS = (PREFIX + "/login",)
STATIC = PREFIX + "/static/"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_env = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


def _local(value: datetime | None, zone: str) -> str:
    """An instant on the patient's own clock, with the zone named ("Tue 03:10 America/Chicago")."""
    if value is None:
        return "never"
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz, zone = ZoneInfo("UTC"), "UTC"
    return f"{value.astimezone(tz).strftime('%a %H:%M')} {zone}"


def countdown(due: datetime, now: datetime) -> str:
    """The SLA time left as the page's script shows it (so the first paint matches)."""
    left = int((due - now).total_seconds())
    size = abs(left)
    if size >= 3600:
        text = f"{size // 3600} h {size % 3600 // 60:02d} min"
    else:
        text = f"{size // 60}:{size % 60:02d}"
    return f"{text} left" if left >= 0 else f"overdue {text}"


_env.filters["when"] = _when
_env.filters["local"] = _local
_env.globals["countdown"] = countdown
_env.globals["Markup"] = Markup


def tandem_of(request: web.Request) -> Tandem:
    return request.app[CONSOLE_TANDEM]


def render(request: web.Request, name: str, status: int = 200, **context: Any) -> web.Response:
    tandem = tandem_of(request)
    coach = request.get(COACH)
    html = _env.get_template(name).render(
        coach=coach,
        csrf=request.get(CSRF, ""),
        now=tandem.clock.now(),
        idle_ms=tandem.settings.session_idle_minutes * 60_000,
        sees_all=accounts.sees_all(coach) if coach is not None else False,
        guidance=tandem.settings.safeguarding_guidance,
        path=request.path,
        **context,
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def render_fragment(name: str, **context: Any) -> web.Response:
    html = _env.get_template(name).render(**context)
    return web.Response(text=html, content_type="text/html", charset="utf-8")


class PageError(Exception):
    """A request the console answers with an HTML error page (status and a plain reason)."""

    def __init__(self, status: int, message: str, denied: tuple[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.denied = denied  # (coach id, patient id) of a refused record view, for the audit log


TITLES = {
    400: "That request was not valid",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "That could not be done",
    413: "Too much data",
    422: "Please check the form",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Try again shortly",
}


PLAIN = {
    404: "There is no page at this address.",
    405: "This address does not accept that kind of request; use the buttons on the page.",
    413: "The form sent too much data.",
}


def _plain(status: int, reason: str) -> str:
    return PLAIN.get(status, reason)


def error_page(request: web.Request, status: int, message: str) -> web.Response:
    return render(request, "error.html", status, title=TITLES.get(status, "Error"), message=message)


def secure_headers(response: web.StreamResponse) -> None:
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if not response.headers.get("Cache-Control"):
        response.headers["Cache-Control"] = "no-store"  # pages carry health information


def cookie_options(tandem: Tandem) -> dict[str, Any]:
    return {
        "httponly": True,
        "samesite": "Strict",
        "secure": tandem.settings.public_url.startswith("https://"),
        "path": PREFIX,
    }


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def csrf_ok(expected: str, given: object) -> bool:
    return bool(expected) and isinstance(given, str) and hmac.compare_digest(expected, given)


async def _authenticate(request: web.Request) -> bool:
    token = request.cookies.get(COOKIE, "")
    if not token or len(token) > 200:
        return False
    tandem = tandem_of(request)
    now = tandem.clock.now()
    background = request.headers.get(BACKGROUND_HEADER) == "1" or request.path.endswith("/events")
    async with tandem.db.session() as session, session.begin():
        if background:
            found = await queries.peek_session(session, token, now)
        else:
            idle = timedelta(minutes=tandem.settings.session_idle_minutes)
            found = await accounts.resume_session(session, token, now, idle)
    if found is None:
        return False
    request[COACH], request[CSRF] = found[0], found[1].csrf_token
    request[EXPIRES] = found[1].expires_at
    return True


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path
    if path.startswith(STATIC) or path in PUBLIC_PATHS:
        return await handler(request)
    if not await _authenticate(request):
        expired = "expired=1&" if request.cookies.get(COOKIE) else ""
        if request.method == "GET" and request.headers.get(BACKGROUND_HEADER) != "1":
            if path.endswith("/events"):
                raise PageError(401, "Your session has ended. Please log in again.")
            target = quote(request.path_qs, safe="")
            return see_other(f"{PREFIX}/login?{expired}next={target}")
        raise PageError(401, "Your session has ended. Please log in again.")
    if request.method == "POST":
        form = await request.post()
        if not csrf_ok(request[CSRF], form.get("csrf")):
            raise PageError(
                403, "This form has expired or did not come from the console. Reload and retry."
            )
    return await handler(request)


async def _audit_denied(request: web.Request, coach_id: str, patient_id: str) -> None:
    tandem = tandem_of(request)
    async with tandem.db.session() as session, session.begin():
        await repo.log(
            session, tandem.clock.now(), "record_view_denied", patient_id, {"coach_id": coach_id}
        )


@web.middleware
async def console_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Sessions, CSRF and HTML error pages for everything under /console."""
    if not (request.path == PREFIX or request.path.startswith(PREFIX + "/")):
        return await handler(request)
    try:
        response = await _guarded(request, handler)
    except PageError as exc:
        if exc.denied is not None:
            await _audit_denied(request, *exc.denied)
        response = error_page(request, exc.status, exc.message)
    except (TakeoverError, EscalationError) as exc:
        response = error_page(request, 409, str(exc))
    except NotFound as exc:
        response = error_page(request, 404, f"There is no {exc} with that id.")
    except web.HTTPException as exc:
        if exc.status < 400:
            secure_headers(exc)
            raise
        reason = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else None
        response = error_page(request, exc.status, reason or _plain(exc.status, exc.reason))
    except Exception as exc:
        log.exception("console_request_failed", path=request.path)
        if faults.classify(exc) == "unavailable":
            response = error_page(request, 503, "The database is unavailable. Try again shortly.")
            response.headers["Retry-After"] = str(faults.RETRY_AFTER_SECONDS)
        else:
            message = "The console hit an unexpected error; it was logged."
            response = error_page(request, 500, message)
    if not response.prepared:
        secure_headers(response)
    return response
