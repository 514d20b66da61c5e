"""Request JSON for every route that takes it (Telegram, the try-it page, the REST API), checked
before any field is read: nesting depth, and strings the databases can store (no NUL, which
PostgreSQL text cannot hold, and no lone surrogate, which is not encodable as UTF-8)."""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32


class BadJson(ValueError):
    """The body is not acceptable JSON; the message says why (a 400)."""


class BadString(BadJson):
    """Valid JSON holding a string no database can store (a 422: a field's value is wrong)."""


def _clean(value: str, sanitize: bool, where: str) -> str:
    try:
        value.encode("utf-8")
        ok = "\x00" not in value
    except UnicodeEncodeError:
        ok = False
    if ok:
        return value
    if not sanitize:
        raise BadString(f"{where or 'body'}: must be valid Unicode without NUL characters")
    return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def _walk(value: Any, depth: int, sanitize: bool, where: str = "") -> Any:
    if depth > MAX_DEPTH:
        raise BadJson(f"JSON nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        return _clean(value, sanitize, where)
    if isinstance(value, list):
        return [
            _walk(item, depth + 1, sanitize, f"{where}.{i}".lstrip("."))
            for i, item in enumerate(value)
        ]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            name = _clean(key, sanitize, where)
            out[name] = _walk(item, depth + 1, sanitize, f"{where}.{name}".lstrip("."))
        return out
    return value


def load(raw: bytes, *, sanitize: bool = False) -> Any:
    """Parse `raw` (UTF-8 JSON). With `sanitize`, NULs are dropped and lone surrogates replaced
    (for providers that retry a refused request); otherwise such strings are refused."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadJson("the body is not valid UTF-8 JSON") from exc
    except RecursionError as exc:
        raise BadJson(f"JSON nested deeper than {MAX_DEPTH} levels") from exc
    return _walk(data, 0, sanitize)
