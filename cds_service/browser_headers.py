"""Security headers for what a browser renders: the rule pages and the dashboard's pages."""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from importlib import resources

from flask import Response

from cds_service.config import Config


@cache
def _inline_style_hashes() -> tuple[str, ...]:
    """CSP hashes of the <style> blocks of the rule pages' template (the only inline CSS)."""
    template = resources.files("cds_service").joinpath("templates", "rules", "base.html")
    blocks = re.findall(r"<style>(.*?)</style>", template.read_text(), flags=re.DOTALL)
    return tuple(
        "'sha256-" + base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() + "'"
        for b in blocks
    )


def content_security_policy(config: Config) -> str:
    """Scripts, styles and images from the service only; no framing, plugins or <base>.

    connect-src stays open to https (and plain http when development mode or insecure FHIR is
    on): fhirclient fetches the EHR's SMART configuration, token endpoint and FHIR server,
    whose origins are the EHR's and not all known here.
    """
    connect = "'self' https:" + (" http:" if config.dev or config.allow_insecure_fhir else "")
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            f"style-src 'self' {' '.join(_inline_style_hashes())}".rstrip(),
            "img-src 'self' data:",
            f"connect-src {connect}",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def add_browser_headers(response: Response, config: Config) -> Response:
    """nosniff on every response; CSP and no-referrer on HTML pages."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = content_security_policy(config)
        # /app/?code=…&state=… (the SMART callback) must not leak in a Referer header.
        response.headers["Referrer-Policy"] = "no-referrer"
    return response
