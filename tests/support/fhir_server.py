"""A real FHIR REST server on loopback for tests and the benchmark: searches with paging."""

from __future__ import annotations

import json
import threading
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
        def log_message(self, *args: Any) -> None:
            return

        def _send(self, status: int, body: Any) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:  # noqa: N802 - http.server API
            with data.lock:
                data.requests.append(self.path)
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
            if (page + 1) * data.page_size < len(matches):
                rest = {k: v for k, v in query.items() if k != "_page"}
                params = "&".join(f"{k}={','.join(v)}" for k, v in rest.items())
                bundle["link"] = [
                    {"relation": "next", "url": f"{base[0]}/{kind}?{params}&_page={page + 1}"}
                ]
            self._send(200, bundle)

    return Handler


@contextmanager
def serve_fhir(
    resources: list[dict[str, Any]], page_size: int = 50
) -> Iterator[tuple[str, FhirData]]:
    """Run the server on an ephemeral loopback port; yields (base URL, data)."""
    data = FhirData(resources, page_size)
    base: list[str] = [""]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(data, base))
    base[0] = f"http://127.0.0.1:{server.server_address[1]}/fhir"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base[0], data
    finally:
        server.shutdown()
        server.server_close()
