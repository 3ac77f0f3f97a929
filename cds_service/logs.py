"""Structured JSON logs with a correlation id; never tokens or resource contents."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

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
    """JSON lines on stderr for the pnen_cds loggers (idempotent)."""
    logger = logging.getLogger("pnen_cds")
    if any(getattr(h, "_pnen_cds", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(CorrelationFilter())
    handler._pnen_cds = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
