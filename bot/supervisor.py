"""`tandem serve --workers N`: N web processes on one port (SO_REUSEPORT), kept running.

The kernel spreads connections over the processes' sockets. A process that dies is restarted;
SIGTERM (or SIGINT) is passed on to every process, which finishes its in-flight requests; one
still running after the grace period is killed.
"""

from __future__ import annotations

import asyncio
import ctypes
import signal
import sys

import structlog

log = structlog.get_logger("tandem.supervisor")
RESTART_DELAY_SECONDS = 1.0
GRACE_SECONDS = 30.0  # a child's own shutdown grace is 20 s
_CHILD = "from bot.cli import main; main()"
PR_SET_PDEATHSIG = 1


async def supervise(host: str, port: int, workers: int, log_level: str) -> int:
    """Run `workers` web-only `tandem serve` processes until SIGTERM/SIGINT; returns the exit
    status (0 after a clean stop)."""
    args = [sys.executable, "-c", _CHILD, "serve", "--host", host, "--port", str(port)]
    args += ["--no-migrate", "--no-background", "--reuse-port"]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    children: list[asyncio.subprocess.Process] = []

    async def keep(index: int) -> None:
        while not stop.is_set():
            child = await asyncio.create_subprocess_exec(*args, preexec_fn=_die_with_parent)
            children.append(child)
            log.info("web_process_started", index=index, pid=child.pid)
            waiter = asyncio.ensure_future(child.wait())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait([waiter, stopper], return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if not waiter.done():
                await _terminate(child, waiter)
                return
            children.remove(child)
            log.error("web_process_exited", index=index, pid=child.pid, code=child.returncode)
            await asyncio.sleep(RESTART_DELAY_SECONDS)

    log.info("supervising", url=f"http://{host}:{port}", workers=workers, level=log_level)
    await asyncio.gather(*(keep(i) for i in range(workers)))
    return 0


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the supervisor dies, even by SIGKILL (Linux),
    so no web process outlives it holding the port."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


async def _terminate(child: asyncio.subprocess.Process, waiter: asyncio.Future[int]) -> None:
    child.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.shield(waiter), GRACE_SECONDS)
    except TimeoutError:
        log.error("web_process_killed", pid=child.pid)
        child.kill()
        await waiter
