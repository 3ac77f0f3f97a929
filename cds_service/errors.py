"""Typed service errors and their HTTP status codes, in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ServiceError(Exception):
    """An error with a status code and a JSON body safe to show the caller."""

    message: str
    status: int = 500
    details: list[dict[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        """The JSON error body (no empty fields)."""
        out: dict[str, Any] = {"error": self.message}
        if self.details:
            out["details"] = self.details
        if self.missing:
            out["missing"] = self.missing
        return out


def bad_request(message: str, details: list[tuple[str, str]]) -> ServiceError:
    """400: the request is not JSON or does not fit the schema or hook (paths in details)."""
    return ServiceError(
        message, 400, [{"path": path or "(body)", "message": msg} for path, msg in details]
    )


def not_found(message: str) -> ServiceError:
    """404: no such service."""
    return ServiceError(message, 404)


def unauthorized() -> ServiceError:
    """401: no detail for the caller; the reason goes to the log."""
    return ServiceError("unauthorized", 401)


def precondition_failed(missing: list[str], limits: list[str] | None = None) -> ServiceError:
    """412: prefetch data is missing and cannot be fetched (naming any fetch limit exceeded)."""
    message = "prefetch data missing and not retrievable from fhirServer"
    if limits:
        message += f" ({'; '.join(sorted(set(limits)))})"
    return ServiceError(message, 412, missing=sorted(missing))


def unsupported_media_type(accepted: tuple[str, ...]) -> ServiceError:
    """415: the request body is not declared as JSON."""
    return ServiceError(f"Content-Type must be {' or '.join(accepted)}", 415)


def too_large(limit: int) -> ServiceError:
    """413: the request body is over the limit."""
    return ServiceError(f"request body over the {limit}-byte limit", 413)
