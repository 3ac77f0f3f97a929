"""Captures the service's JSON log lines, as its handlers format them, during a block."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from cds_service.logs import LOGGER_NAMES, CorrelationFilter, JsonFormatter


class _Collect(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def captured_logs() -> Iterator[list[str]]:
    """The JSON lines every service logger writes while the block runs."""
    lines: list[str] = []
    handler = _Collect(lines)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(CorrelationFilter())
    loggers = [logging.getLogger(name) for name in LOGGER_NAMES]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield lines
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
