"""Telling database faults apart: "cannot serve now" (503, try again) from "this value cannot be
stored" (a client's bad input, 400), so neither ends as a 500 with a traceback."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import exc as sa

Fault = Literal["unavailable", "bad_value"]
RETRY_AFTER_SECONDS = 5
# SQLSTATE classes: 08 connection, 53 insufficient resources (disk full), 57 operator
# intervention (shutdown), 40 transaction rollback (serialization, deadlock); 25006 read-only.
_UNAVAILABLE_STATES = ("08", "53", "57", "40", "25006", "55P03")


def classify(exc: BaseException) -> Fault | None:
    """What kind of database fault `exc` is, or None when it is not one."""
    if isinstance(exc, sa.TimeoutError):  # no pooled connection came free
        return "unavailable"
    if isinstance(exc, sa.DBAPIError):
        state = str(getattr(exc.orig, "sqlstate", "") or "")
        if state.startswith("22"):  # data exception: too long, NUL, out of range
            return "bad_value"
        if isinstance(exc, sa.DataError):
            return "bad_value"
        if exc.connection_invalidated or state.startswith(_UNAVAILABLE_STATES):
            return "unavailable"
        if isinstance(exc, (sa.OperationalError, sa.InterfaceError)):
            return "unavailable"  # SQLite: locked, read-only, disk full, file gone
        return None
    if isinstance(exc, (ConnectionError, OSError)):  # refused or reset at connect
        return "unavailable"
    name = type(exc).__module__
    if name.startswith("asyncpg") and "Connection" in type(exc).__name__:
        return "unavailable"
    return None
