"""Fetches prefetch data the EHR did not send: the service's only outbound IO."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

import orjson
import requests

from fhir_mappings.bundles import Page, read_page


class FetchError(Exception):
    """The FHIR server could not be reached, refused the token, or answered with an error."""


class FhirClient:
    """A FHIR REST client for one request: base URL, bearer token, timeout, page cap."""

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
        self.timeout = timeout
        self.max_pages = max_pages
        self.headers = {"Accept": "application/fhir+json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def _same_server(self, url: str) -> bool:
        base, target = urlsplit(self.base_url), urlsplit(url)
        return (base.scheme, base.netloc) == (
            target.scheme,
            target.netloc,
        ) and target.path.startswith(base.path.rstrip("/"))

    def get_json(self, url: str) -> Any:
        """GET one URL on this server and parse the JSON body."""
        if not self._same_server(url):
            raise FetchError("link points outside fhirServer")
        try:
            response = self.session.get(url, headers=self.headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise FetchError(type(exc).__name__) from exc
        if response.status_code != 200:
            raise FetchError(f"HTTP {response.status_code}")
        try:
            return orjson.loads(response.content)
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
            page.next_url = following.next_url
            pages += 1
        return page

    def search(self, key: str, query: str) -> Page:
        """Run a relative query (e.g. 'Condition?patient=1') and read every page."""
        page = read_page(key, self.get_json(urljoin(self.base_url, query.replace("|", "%7C"))))
        if page.failed:
            raise FetchError("OperationOutcome")
        return self.follow(key, page)
