"""`make test`: the whole suite on SQLite, then the database tests again on PostgreSQL.

Where PostgreSQL is unreachable the second half is skipped with a notice, except under CI=true,
where that is an error.

`--coverage` (`make coverage`) runs the SQLite half under coverage instead and prints line and
branch coverage of bot, flows and storage (code run in the test process; the `tandem serve`
subprocesses of the end-to-end tests are not counted); `.venv/bin/coverage html` writes the full
report. It is not part of `make test`: on Python 3.11 the tracer sees every function call
(SQLAlchemy's included): the SQLite suite took 19.7 minutes under it against 10.9 without, and
CPU-bound tests up to three times as long (25 s -> 66 s for the same channel tests). Python
3.12's sys.monitoring would make it cheap enough.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


async def _reachable(url: str) -> str | None:
    from storage.db import Database

    db = Database(url)
    try:
        async with asyncio.timeout(10), db.engine.connect():
            return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        await db.close()


def _pytest(backend: str, *extra: str, coverage: bool = False) -> int:
    env = {**os.environ, "TANDEM_TEST_DB": backend}
    print(f"\n=== tests on {backend} ===", flush=True)
    runner = ["coverage", "run", "-m", "pytest"] if coverage else ["pytest"]
    return subprocess.call([sys.executable, "-m", *runner, *extra], env=env)


def _coverage_summary() -> None:
    """Branch and line coverage per package, from the SQLite half."""
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "coverage.json")
        done = subprocess.call(
            [sys.executable, "-m", "coverage", "json", "-q", "-o", out],
            stdout=subprocess.DEVNULL,
        )
        if done != 0:
            print("NOTICE: no coverage data to report")
            return
        with open(out, encoding="utf-8") as f:
            files = json.load(f)["files"]
    totals: dict[str, list[int]] = {}
    for path, data in files.items():
        package = path.replace(os.sep, "/").split("/")[0]
        summary = data["summary"]
        row = totals.setdefault(package, [0, 0, 0, 0])
        row[0] += summary["covered_lines"]
        row[1] += summary["num_statements"]
        row[2] += summary["covered_branches"]
        row[3] += summary["num_branches"]
    print("\n=== coverage (SQLite, in-process) ===")
    for package, (lines, statements, branches, all_branches) in sorted(totals.items()):
        print(
            f"{package:<8} lines {100 * lines / max(1, statements):5.1f}%"
            f"  branches {100 * branches / max(1, all_branches):5.1f}%"
        )


def main() -> int:
    extra = [arg for arg in sys.argv[1:] if arg != "--coverage"]
    if "--coverage" in sys.argv[1:]:
        code = _pytest("sqlite", *extra, coverage=True)
        _coverage_summary()
        return code
    code = _pytest("sqlite", *extra)
    url = os.environ.get("TANDEM_TEST_POSTGRES_URL", DEFAULT_PG)
    problem = asyncio.run(_reachable(url))
    if problem is not None:
        if os.environ.get("CI") == "true":
            print(f"PostgreSQL unreachable under CI ({problem})", file=sys.stderr)
            return 1
        print(f"NOTICE: PostgreSQL unreachable, its half of the suite is skipped ({problem})")
        return code
    pg_code = _pytest("postgres", "-m", "db", *extra)
    return code or pg_code


if __name__ == "__main__":
    raise SystemExit(main())
