"""The coach console: server-rendered pages under /console (README "Coach console")."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from bot.coaching.events import LiveEvent
from bot.console import actions, auth, live, pages, study
from bot.console.web import CONSOLE_TANDEM, PREFIX, console_middleware, see_other
from bot.service import Tandem

STATIC_DIR = Path(__file__).with_name("static")


async def _root(request: web.Request) -> web.Response:
    return see_other(PREFIX + "/")


def setup(app: web.Application, tandem: Tandem) -> None:
    """Mount the console on `app`."""
    app[CONSOLE_TANDEM] = tandem
    app[live.STREAMS] = set[asyncio.Queue[LiveEvent]]()
    app[live.BY_SESSION] = {}
    app.middlewares.append(console_middleware)
    app.on_shutdown.append(live.close_streams)
    r = app.router
    r.add_get(PREFIX, _root)
    r.add_get(PREFIX + "/", pages.queue_page)
    r.add_get(PREFIX + "/queue/rows", pages.queue_rows)
    r.add_get(PREFIX + "/login", auth.login_form)
    r.add_post(PREFIX + "/login", auth.login)
    r.add_post(PREFIX + "/logout", auth.logout)
    r.add_get(PREFIX + "/events", live.events)
    r.add_get(PREFIX + "/caseload", pages.caseload_page)
    r.add_get(PREFIX + "/patients/{id}", pages.patient_page)
    r.add_get(PREFIX + "/patients/{id}/transcript", pages.transcript_fragment)
    r.add_post(PREFIX + "/patients/{id}/takeover", actions.take_over)
    r.add_post(PREFIX + "/patients/{id}/reply", actions.reply)
    r.add_post(PREFIX + "/patients/{id}/release", actions.release)
    r.add_post(PREFIX + "/patients/{id}/notes", actions.add_note)
    r.add_post(PREFIX + "/patients/{id}/coach", actions.reassign)
    r.add_post(PREFIX + "/patients/{id}/schedule", actions.schedule)
    r.add_post(PREFIX + "/escalations/{id}/acknowledge", actions.acknowledge)
    r.add_get(PREFIX + "/templates", pages.templates_page)
    r.add_post(PREFIX + "/templates", actions.add_template)
    r.add_post(PREFIX + "/templates/{id}/delete", actions.delete_template)
    r.add_get(PREFIX + "/team", pages.team_page)
    r.add_post(PREFIX + "/team/availability", actions.set_availability)
    r.add_post(PREFIX + "/team/{id}/backup", actions.set_backup)
    r.add_get(PREFIX + "/study", study.study_page)
    r.add_get(PREFIX + "/study/{chart}.csv", study.chart_csv)
    r.add_static(PREFIX + "/static", STATIC_DIR, append_version=False)
