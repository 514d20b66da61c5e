"""Structured JSON logs. Message bodies and health details never go into a log line."""

from __future__ import annotations

import logging
import sys

import structlog


def configure(level: str = "info") -> None:
    numeric = getattr(logging, level.upper(), logging.INFO)
    logging.basicConfig(stream=sys.stderr, level=numeric, format="%(message)s")
    # APScheduler warns each time the scheduler's interval job is still busy from the previous
    # tick ("maximum number of running instances reached"): expected under load, not news.
    logging.getLogger("apscheduler.scheduler").setLevel(max(numeric, logging.ERROR))
    # "Job ... executed successfully" every few seconds says nothing an operator needs.
    logging.getLogger("apscheduler.executors").setLevel(max(numeric, logging.WARNING))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
