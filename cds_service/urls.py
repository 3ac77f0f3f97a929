"""Parsing URLs from requests and FHIR servers without letting a malformed one raise."""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit


def split_url(url: str) -> SplitResult | None:
    """The URL's parts, or None when it cannot be parsed (a bad IPv6 host or port).

    urlsplit raises ValueError on "http://[::1/R4", and `.port` on "http://h:99999/": a URL
    a caller sent must be refused, never turned into a 500.
    """
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError:
        return None
    return parts
