"""Loopback addresses: what development mode may bind, fetch from, and trust over plain HTTP."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback_host(host: str | None) -> bool:
    """True for `localhost` and loopback addresses (127.0.0.0/8, ::1)."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    """True when the URL's host is a loopback address or `localhost`."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    return is_loopback_host(host)
