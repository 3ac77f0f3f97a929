"""Fetches prefetch data the EHR did not send: the service's only outbound IO."""

from __future__ import annotations

import threading
import time
from typing import Any, Final
from urllib.parse import urljoin, urlsplit, urlunsplit

import orjson
import requests
import urllib3

from cds_service.urls import split_url
from fhir_mappings.bundles import Page, read_page

_CHUNK: Final[int] = 64 * 1024
# Encoded dots and slashes could smuggle "../" past the path check; a backslash is read as "/"
# by some servers; Tomcat and Jetty (HAPI) strip ";" path parameters, so "..;/" is "../" there;
# "%25" ("%" encoded) becomes "%2e" behind a proxy that decodes twice. FHIR paths need none.
_SMUGGLED: Final[tuple[str, ...]] = ("%2e", "%2f", "%5c", "\\", ";", "%3b", "%25")


class FetchError(Exception):
    """The FHIR server could not be reached, refused the token, or answered with an error."""


class FetchLimit(FetchError):
    """A fetch limit was exceeded; the message names the limit (it goes into the 412)."""


def remove_dot_segments(path: str) -> str:
    """A URL path with "." and ".." segments resolved (RFC 3986, section 5.2.4)."""
    segments = path.split("/")
    output: list[str] = []
    for segment in segments:
        if segment == "..":
            if len(output) > 1:
                output.pop()
        elif segment != ".":
            output.append(segment)
    if segments[-1] in (".", ".."):
        output.append("")  # "a/b/.." names the directory "a/"
    return "/".join(output)


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
        *,
        max_page_bytes: int = 5 * 1024 * 1024,
        max_resources: int = 20_000,
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/") + "/"
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.max_pages = max_pages
        self.max_page_bytes = max_page_bytes
        self.max_resources = max_resources
        self.headers = {"Accept": "application/fhir+json"}
        self.auth = _Bearer(token)
        self._resources = 0
        self._count_lock = threading.Lock()  # the keys of a request are fetched in parallel

    @property
    def shown_base(self) -> str:
        """The FHIR base as logged: scheme, host, port and path (no userinfo, no query)."""
        parts = split_url(self.base_url)
        if parts is None:
            return "(not a valid URL)"
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"

    def confined(self, url: str) -> str:
        """`url` with dot segments removed, if it stays under the FHIR base path; else refused."""
        base, target = urlsplit(self.base_url), split_url(url)
        if target is None:
            raise FetchError("link is not a valid URL")
        if any(s in target.path.lower() for s in _SMUGGLED):
            raise FetchError("link path has encoded characters, path parameters or backslashes")
        if (target.scheme.lower(), target.netloc.lower()) != (base.scheme, base.netloc.lower()):
            raise FetchError("link points outside fhirServer")
        path = remove_dot_segments(target.path)
        if not path.startswith(base.path):  # the base path ends with "/": no ".../R4evil"
            raise FetchError("link points outside fhirServer")
        return urlunsplit((target.scheme, target.netloc, path, target.query, ""))

    @property
    def _over_deadline(self) -> str:
        return f"FHIR fetches over the {self.timeout:g}-second deadline"

    def _check_deadline(self) -> None:
        if time.monotonic() > self.deadline:
            raise FetchLimit(self._over_deadline)

    def _read(self, key: str, url: str) -> Page:
        """One page: fetched, parsed and counted, all before the deadline."""
        page = read_page(key, self.get_json(url))
        self._check_deadline()  # parsing counts against the deadline too
        with self._count_lock:
            self._resources += len(page.resources)
            if self._resources > self.max_resources:
                raise FetchLimit(f"more than {self.max_resources} resources fetched in one call")
        return page

    def get_json(self, url: str) -> Any:
        """GET one URL on this server and parse the JSON body, all before the deadline."""
        url = self.confined(url)
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise FetchLimit(self._over_deadline)
        limit = self.max_page_bytes
        too_large = f"a FHIR page over the {limit}-byte limit"
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
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise FetchLimit(too_large)
                # read1 returns what one read gives: a slow server cannot outlast the deadline.
                while chunk := response.raw.read1(_CHUNK, decode_content=True):
                    body += chunk
                    if len(body) > limit:
                        raise FetchLimit(too_large)
                    self._check_deadline()
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            # raw reads raise urllib3's own errors (read timeout, broken chunk), not requests'
            if isinstance(exc, requests.Timeout | urllib3.exceptions.TimeoutError | TimeoutError):
                raise FetchLimit(self._over_deadline) from exc
            raise FetchError(type(exc).__name__) from exc
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise FetchError("response is not JSON") from exc
        self._check_deadline()
        return parsed

    def follow(self, key: str, page: Page) -> Page:
        """Add the pages after `page` (Bundle link[next]), at most max_pages in all."""
        pages = 1
        while page.next_url:
            if pages >= self.max_pages:
                raise FetchLimit(f"more than {self.max_pages} search pages for one key")
            try:
                url = urljoin(self.base_url, page.next_url)
            except ValueError as exc:  # a malformed host in the link: never a 500
                raise FetchError("link is not a valid URL") from exc
            following = self._read(key, url)
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
        page = self._read(key, urljoin(self.base_url, query.replace("|", "%7C")))
        if page.failed:
            raise FetchError("OperationOutcome")
        return self.follow(key, page)
