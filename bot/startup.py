"""Start-up failures as one line an operator can act on, instead of a traceback."""

from __future__ import annotations

import errno

from sqlalchemy import exc as sa

from bot.settings import Settings

_MISSING_DATABASE = "3D000"  # PostgreSQL: invalid_catalog_name


def describe(exc: BaseException, settings: Settings, where: str | None = None) -> str | None:
    """One line for a known start-up failure of `tandem serve` / `tandem db upgrade`, or None."""
    driver = settings.database_url.split("://", 1)[0]
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE and where:
        return f"cannot listen on {where}: the address is already in use"
    if isinstance(exc, OSError) and exc.errno == errno.EADDRNOTAVAIL and where:
        return f"cannot listen on {where}: no such local address (TANDEM_HOST)"
    if isinstance(exc, PermissionError) and where and "bind" in str(exc).lower():
        return f"cannot listen on {where}: permission denied"
    if isinstance(exc, sa.DBAPIError):
        state = str(getattr(exc.orig, "sqlstate", "") or "")
        if state == _MISSING_DATABASE:
            return f"the database in TANDEM_DATABASE_URL does not exist ({driver}); create it first"
        if driver.startswith("sqlite") and isinstance(exc, sa.OperationalError):
            return (
                "cannot open or write the SQLite database file in TANDEM_DATABASE_URL "
                f"({type(exc.orig).__name__}); check the path and its permissions"
            )
        return f"the database is unreachable ({type(exc.orig).__name__}); check TANDEM_DATABASE_URL"
    if isinstance(exc, (ConnectionError, TimeoutError)) or (
        isinstance(exc, OSError) and exc.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH)
    ):
        return f"the database is unreachable ({type(exc).__name__}); check TANDEM_DATABASE_URL"
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"cannot create {exc.filename}: {exc.strerror}; check TANDEM_DATABASE_URL"
    if isinstance(exc, OSError) and type(exc).__module__ == "socket":
        return f"the database host cannot be resolved ({exc}); check TANDEM_DATABASE_URL"
    return None
