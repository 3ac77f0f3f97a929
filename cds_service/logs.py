"""Structured JSON logs with a correlation id; never tokens or resource contents."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

# The service's own loggers, and those of the packages it runs (named after each package).
LOGGER_NAMES = ("pnen_cds", "hooks", "fhir_mappings", "consensus", "cards")
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, correlation id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as JSON."""
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = (
                    value if isinstance(value, str | int | float | bool | None) else str(value)
                )
        if record.exc_info:
            out["trace"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)

    def formatException(self, ei: ExcInfo) -> str:  # noqa: N802 - logging.Formatter API
        """The stack and exception types only: messages may quote resource contents or tokens."""
        return "\n".join(_trace_lines(ei[1])) if ei[1] is not None else ""


def _trace_lines(exc: BaseException) -> list[str]:
    """A traceback (causes first) with each exception's message withheld."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        cause = current.__cause__
        current = cause if cause or current.__suppress_context__ else current.__context__
    lines: list[str] = []
    for item in reversed(chain):
        lines.append("Traceback (most recent call last):")
        lines += [
            frame.rstrip("\n")
            for frame in traceback.format_list(traceback.extract_tb(item.__traceback__))
        ]
        kind = type(item)
        lines.append(f"{kind.__module__}.{kind.__qualname__} (message withheld from the log)")
    return lines


class CorrelationFilter(logging.Filter):
    """Adds the current request's correlation id and patient reference to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Attach request context when there is one."""
        from flask import g, has_request_context

        if has_request_context():
            record.correlation_id = getattr(g, "correlation_id", None)
            patient = getattr(g, "patient_ref", None)
            if patient:
                record.patient = patient
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on stderr for the service's loggers and the pure packages' (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(CorrelationFilter())
    handler._pnen_cds = True  # type: ignore[attr-defined]
    for name in LOGGER_NAMES:
        logger = logging.getLogger(name)
        if any(getattr(h, "_pnen_cds", False) for h in logger.handlers):
            continue
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False
