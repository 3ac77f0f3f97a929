"""Fetches prefetch data the EHR did not send: the service's only outbound IO."""

from __future__ import annotations

import time
from typing import Any, Final
from urllib.parse import urljoin, urlsplit

import orjson
import requests
import urllib3

from fhir_mappings.bundles import Page, read_page

# One search page larger than this is refused (a 10 000-resource page is about 20 MB).
MAX_PAGE_BYTES: Final[int] = 64 * 1024 * 1024
_CHUNK: Final[int] = 64 * 1024


class FetchError(Exception):
    """The FHIR server could not be reached, refused the token, or answered with an error."""


class _Bearer(requests.auth.AuthBase):
    """The EHR's access token as a bearer header, or no Authorization header at all.

    Passing an auth object keeps requests from adding credentials of its own (a ~/.netrc entry for
    the host would otherwise replace the EHR's token).
    """

    def __init__(self, token: str | None) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self.token:
            request.headers["Authorization"] = f"Bearer {self.token}"
        return request


class FhirClient:
    """A FHIR REST client for one request: base URL, bearer token, page cap, and a deadline.

    Every fetch of the request (all keys, all pages) must end within `timeout` seconds of the
    client's creation: a slow or dribbling server costs the hook call that long at most.
    """

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        token: str | None,
        timeout: float,
        max_pages: int,
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/") + "/"
        self.deadline = time.monotonic() + timeout
        self.max_pages = max_pages
        self.headers = {"Accept": "application/fhir+json"}
        self.auth = _Bearer(token)

    def _same_server(self, url: str) -> bool:
        base, target = urlsplit(self.base_url), urlsplit(url)
        return (base.scheme, base.netloc) == (
            target.scheme,
            target.netloc,
        ) and target.path.startswith(base.path.rstrip("/"))

    def get_json(self, url: str) -> Any:
        """GET one URL on this server and parse the JSON body, all before the deadline."""
        if not self._same_server(url):
            raise FetchError("link points outside fhirServer")
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError("timed out")
        body = bytearray()
        try:
            # No redirects: they could lead the bearer token or the service elsewhere.
            with self.session.get(
                url,
                headers=self.headers,
                auth=self.auth,
                timeout=remaining,
                stream=True,
                allow_redirects=False,
            ) as response:
                if response.status_code != 200:
                    raise FetchError(f"HTTP {response.status_code}")
                # read1 returns what one read gives: a slow server cannot outlast the deadline.
                while chunk := response.raw.read1(_CHUNK, decode_content=True):
                    body += chunk
                    if len(body) > MAX_PAGE_BYTES:
                        raise FetchError(f"page over {MAX_PAGE_BYTES} bytes")
                    if time.monotonic() > self.deadline:
                        raise FetchError("timed out")
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            # raw reads raise urllib3's own errors (read timeout, broken chunk), not requests'
            raise FetchError(type(exc).__name__) from exc
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise FetchError("response is not JSON") from exc

    def follow(self, key: str, page: Page) -> Page:
        """Add the pages after `page` (Bundle link[next]), at most max_pages in all."""
        pages = 1
        while page.next_url:
            if pages >= self.max_pages:
                raise FetchError(f"more than {self.max_pages} pages")
            following = read_page(key, self.get_json(urljoin(self.base_url, page.next_url)))
            if following.failed:
                raise FetchError("error outcome in a page")
            page.resources.extend(following.resources)
            page.issues.extend(following.issues)
            page.aliases.update(following.aliases)
            page.next_url = following.next_url
            pages += 1
        return page

    def search(self, key: str, query: str) -> Page:
        """Run a relative query (e.g. 'Condition?patient=1') and read every page."""
        page = read_page(key, self.get_json(urljoin(self.base_url, query.replace("|", "%7C"))))
        if page.failed:
            raise FetchError("OperationOutcome")
        return self.follow(key, page)
