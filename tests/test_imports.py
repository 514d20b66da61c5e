"""Importing Tandem has no side effects: no data file is read, no environment variable or
logger level is set. Configuration happens when a service is built, not when a module loads."""

from __future__ import annotations

import subprocess
import sys


def _probe() -> str:
    return r"""
import logging, os, sys
opened = []
def hook(event, args):
    if event == "open" and isinstance(args[0], str):
        opened.append(args[0])
sys.addaudithook(hook)
environ = dict(os.environ)
import bot.app, bot.cli, bot.service, flows.engine, flows.safety, storage.repo
import bot, flows, storage
ours = tuple(os.path.dirname(m.__file__) + os.sep for m in (bot, flows, storage))
data = [p for p in opened
        if os.path.abspath(p).startswith(ours) and not p.endswith((".py", ".pyc"))]
set_levels = sorted(name for name, lg in logging.root.manager.loggerDict.items()
                    if isinstance(lg, logging.Logger) and lg.level != logging.NOTSET
                    and name.split(".")[0] in ("tandem", "bot", "flows", "storage"))
print(repr((data, sorted(set(os.environ) ^ set(environ)), set_levels)))
"""


def test_importing_tandem_reads_no_files_and_sets_nothing() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _probe()], capture_output=True, text=True, check=True
    ).stdout
    data, environ, levels = eval(out)  # our own probe's repr of three lists
    assert data == [], f"files read at import: {data}"
    assert environ == [], f"environment changed at import: {environ}"
    assert levels == [], f"logger levels set at import: {levels}"
