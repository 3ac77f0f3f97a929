"""A real FHIR REST server on loopback for tests and the benchmark: searches with paging."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SEARCH_PARAMS = {"patient", "code", "status", "_count", "_page"}


class FhirData:
    """Resources served by type; a search filters by patient (and code/status when asked)."""

    def __init__(self, resources: list[dict[str, Any]], page_size: int = 50) -> None:
        self.by_type: dict[str, list[dict[str, Any]]] = {}
        for resource in resources:
            self.by_type.setdefault(resource["resourceType"], []).append(resource)
        self.page_size = page_size
        self.requests: list[str] = []
        self.required_token: str | None = None
        self.fail_types: set[str] = set()
        self.delay = 0.0  # seconds to wait before answering (a slow server)
        self.endless = False  # every search page links to a next page (a paging loop)
        self.trickle = 0.0  # seconds between the bytes of each body (a server that dribbles)
        self.redirect: str | None = None  # answer every GET with a 302 to this URL
        self.connections = 0  # TCP connections accepted, whatever was sent on them
        self.next_links: dict[str, str] = {}  # type → a (hostile) next link on its first page
        self.lock = threading.Lock()

    def search(self, kind: str, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        """The matching resources of one type."""
        patient = query.get("patient", [None])[0]
        codes = set(",".join(query.get("code", [])).split(",")) - {""}
        statuses = set(",".join(query.get("status", [])).split(",")) - {""}
        found = []
        for resource in self.by_type.get(kind, []):
            subject = (resource.get("subject") or resource.get("patient") or {}).get("reference")
            if patient and subject not in (f"Patient/{patient}", None):
                continue
            if statuses and resource.get("status") not in statuses:
                continue
            if codes:
                tokens = {
                    f"{c.get('system')}|{c.get('code')}"
                    for c in (resource.get("code") or {}).get("coding", [])
                }
                if not tokens & codes:
                    continue
            found.append(resource)
        return found


def _handler(data: FhirData, base: list[str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real FHIR servers do
        disable_nagle_algorithm = True  # headers and body leave at once, no delayed-ACK stall

        def log_message(self, *args: Any) -> None:
            return

        def setup(self) -> None:
            with data.lock:
                data.connections += 1
            super().setup()

        def _send(self, status: int, body: Any) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if not data.trickle:
                self.wfile.write(payload)
                return
            try:
                for byte in payload:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(data.trickle)
            except OSError:
                return  # the client gave up, as it should

        def do_GET(self) -> None:  # noqa: N802 - http.server API
            with data.lock:
                data.requests.append(self.path)
            if data.delay:
                time.sleep(data.delay)
            if data.redirect:
                self.send_response(302)
                self.send_header("Location", data.redirect)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if data.required_token and self.headers.get("Authorization") != (
                f"Bearer {data.required_token}"
            ):
                self._send(401, {"resourceType": "OperationOutcome", "issue": []})
                return
            parts = urlsplit(self.path)
            path = [p for p in parts.path.split("/") if p][1:]  # drop the "fhir" base segment
            query = parse_qs(parts.query)
            if not path or path[0] in data.fail_types:
                self._send(500, {"resourceType": "OperationOutcome", "issue": []})
                return
            if len(path) == 2:
                for resource in data.by_type.get(path[0], []):
                    if resource.get("id") == path[1]:
                        self._send(200, resource)
                        return
                self._send(404, {"resourceType": "OperationOutcome", "issue": []})
                return
            kind = path[-1]
            matches = data.search(kind, query)
            page = int(query.get("_page", ["0"])[0])
            chunk = matches[page * data.page_size : (page + 1) * data.page_size]
            bundle: dict[str, Any] = {
                "resourceType": "Bundle",
                "type": "searchset",
                "total": len(matches),
                "entry": [{"resource": r, "search": {"mode": "match"}} for r in chunk],
            }
            if data.endless or (page + 1) * data.page_size < len(matches):
                rest = {k: v for k, v in query.items() if k != "_page"}
                params = "&".join(f"{k}={','.join(v)}" for k, v in rest.items())
                bundle["link"] = [
                    {"relation": "next", "url": f"{base[0]}/{kind}?{params}&_page={page + 1}"}
                ]
            if page == 0 and kind in data.next_links:
                bundle["link"] = [{"relation": "next", "url": data.next_links[kind]}]
            self._send(200, bundle)

    return Handler


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the service fetches every key at once: no dropped connections
    daemon_threads = True  # a deliberately slow answer must not hold up the shutdown
    block_on_close = False


@contextmanager
def serve_fhir(
    resources: list[dict[str, Any]], page_size: int = 50
) -> Iterator[tuple[str, FhirData]]:
    """Run the server on an ephemeral loopback port; yields (base URL, data)."""
    data = FhirData(resources, page_size)
    base: list[str] = [""]
    server = _Server(("127.0.0.1", 0), _handler(data, base))
    base[0] = f"http://127.0.0.1:{server.server_address[1]}/fhir"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield base[0], data
    finally:
        server.shutdown()
        server.server_close()
