"""Structured JSON logs, one object a line, with nothing a patient said or is in them.

Every record, Tandem's own (structlog) and the libraries' (stdlib logging: aiohttp, Alembic,
httpx, transitions), goes through the same chain and ends in `redact`, which:
- drops fields that carry content or identifiers (`SENSITIVE_KEYS`);
- renders an exception as its type names and frames only: messages of database errors carry the
  statement's bound parameters (bodies, phone numbers), so no exception message is ever logged;
- removes Bot API tokens and query strings from URLs, masks long digit runs (phone numbers,
  chat ids), strips control characters (NUL) and cuts every string to `MAX_FIELD` characters.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import MutableMapping
from pathlib import Path
from types import TracebackType
from typing import Any

import structlog

MAX_FIELD = 200
SENSITIVE_KEYS = frozenset(
    {
        "body",
        "text",
        "address",
        "phone",
        "from",
        "to",
        "params",
        "parameters",
        "statement",
        "sql",
        "data",
        "payload",
        "token",
        "password",
        "name",
        "email",
    }
)
# https://api.telegram.org/bot<id>:<secret>/method: the token is a credential.
_BOT_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")
_URL_QUERY = re.compile(r"(https?://[^\s?#\"']+)\?[^\s#\"']*")
_LONG_NUMBER = re.compile(r"\+?\d{9,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_ROOT = str(Path(__file__).resolve().parents[1])
# Libraries whose info lines say nothing an operator needs (or, for httpx, carry the bot token
# in the URL): warnings and errors still come through, redacted.
_QUIET = {
    "httpx": logging.WARNING,
    # twilio's HTTP client logs request bodies (patient text) at DEBUG.
    "tandem.twilio.http": logging.WARNING,
    # The database drivers' debug lines repeat each statement with its parameters.
    "aiosqlite": logging.WARNING,
    "asyncpg": logging.WARNING,
    "sqlalchemy": logging.WARNING,
    "httpcore": logging.WARNING,
    "telegram": logging.WARNING,
    "transitions": logging.WARNING,
    "alembic": logging.WARNING,
    "aiohttp.access": logging.WARNING,
    "asyncio": logging.WARNING,
    "apscheduler.executors": logging.WARNING,
    # "maximum number of running instances reached": the tick is busy under load, not news.
    "apscheduler.scheduler": logging.ERROR,
}


def clean(value: str) -> str:
    """`value` with tokens, URL queries, long numbers and control characters removed, cut short."""
    value = _CONTROL.sub("", value[: MAX_FIELD * 4])
    value = _BOT_TOKEN.sub("<token>", value)
    value = _URL_QUERY.sub(r"\1?<redacted>", value)
    value = _LONG_NUMBER.sub("<number>", value)
    return value if len(value) <= MAX_FIELD else value[:MAX_FIELD] + "…"


def _frames(tb: TracebackType | None) -> list[str]:
    """Tandem's own frames (where it went wrong for us) and the innermost one."""
    stack = traceback.extract_tb(tb)
    ours = [f for f in stack if "site-packages" not in f.filename][-10:]
    if stack and (not ours or ours[-1] is not stack[-1]):
        ours.append(stack[-1])
    return [f"{f.filename.replace(_ROOT, '').lstrip('/')}:{f.lineno} {f.name}" for f in ours]


def describe_exception(exc: BaseException) -> dict[str, Any]:
    """The exception's type chain and where it was raised, never its message."""
    chain: list[str] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 5:
        chain.append(type(current).__module__ + "." + type(current).__qualname__)
        current = current.__cause__ or current.__context__
    return {"error": chain[0], "caused_by": chain[1:], "trace": _frames(exc.__traceback__)}


def _exception(event: MutableMapping[str, Any]) -> None:
    info = event.pop("exc_info", None)
    event.pop("exception", None)
    if info is None or info is False:
        return
    if info is True:
        info = sys.exc_info()
    exc = info if isinstance(info, BaseException) else info[1] if isinstance(info, tuple) else None
    if isinstance(exc, BaseException):
        event.update(describe_exception(exc))


def _value(key: str, value: Any) -> Any:
    if key.lower() in SENSITIVE_KEYS:
        return "<redacted>"
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_value("", item) for item in value[:20]]
    if isinstance(value, dict):
        return {str(k): _value(str(k), v) for k, v in list(value.items())[:20]}
    return clean(str(value))


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The structlog processor: see the module docstring."""
    _exception(event)
    event.pop("stack", None)
    for key in list(event):
        if key in ("event", "error", "caused_by", "trace") and not isinstance(event[key], str):
            continue
        event[key] = _value(key, event[key]) if key != "event" else clean(str(event[key]))
    return event


def _processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact,
    ]


def configure(level: str = "info") -> None:
    """JSON lines on stderr for Tandem and every library that logs through `logging`."""
    numeric = getattr(logging, level.upper(), logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *_processors()],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(numeric)
    for name, floor in _QUIET.items():
        logging.getLogger(name).setLevel(max(numeric, floor))
    logging.captureWarnings(True)
    structlog.configure(
        processors=[*_processors(), structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
